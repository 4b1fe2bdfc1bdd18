/**
 * The bare client, run as its own process: what a new user would write to send each slot's POSTs
 * and nothing else, the floor the connector is compared with (issue 13). One undici `Pool` with
 * 64 connections (the connector's default max_inflight) to the same gateway; for every slot it
 *   - warms the connections one second before every slot (as many concurrent GET /healthz as the
 *     slot will use, up to 64; the connector does so only after 4 s without a call),
 *   - wakes on a timer armed 3 ms early and spins until Date.now() reaches the slot (never early),
 *   - sends one `POST /function/<name>` per function through `pool.request`, with the headers the
 *     connector must send (its contract with functions, issue 13: `Content-Type`, `User-Agent`,
 *     `X-Connector`, `X-Topic`, `X-Cron-Scheduled-Time`, `X-Cron-Attempt`, and a random UUID as
 *     `X-Cron-Execution-Id`), so the gateway parses the same requests from both, and drains each
 *     answer.
 * No schedule parsing, no logs, no metrics, no retries, no credentials. Calls are marked
 * `?via=bare` so the gateway counts them apart from the connector's.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

interface Config {
  readonly url: string;
  readonly paths: readonly string[];
  readonly periodMs: number;
}

const CONNECTIONS = 64;
const SPIN_LEAD_MS = 3;
const WARM_LEAD_MS = 1000;

let ok = 0;
let failed = 0;
let stopped = false;
let timer: NodeJS.Timeout | undefined;

function warm(pool: Pool, n: number): void {
  for (let i = 0; i < Math.min(n, CONNECTIONS); i++) {
    pool.request({ path: '/healthz', method: 'GET' }).then(
      (res) => res.body.dump(),
      () => undefined,
    );
  }
}

/** The connector's request headers (its default content_type) but the per-request ones. */
const FIXED = {
  'content-type': 'text/plain',
  'user-agent': 'openfaas-cron-connector/bare-client',
  'x-connector': 'cron-connector',
  'x-topic': 'cron-function',
  'x-cron-attempt': '1',
};

function fire(pool: Pool, paths: readonly string[], nominal: number): void {
  const scheduled = new Date(nominal).toISOString();
  for (const path of paths) {
    const headers = { ...FIXED, 'x-cron-scheduled-time': scheduled, 'x-cron-execution-id': randomUUID() };
    pool.request({ path, method: 'POST', headers, body: '' }).then(
      (res) => {
        ok++;
        return res.body.dump();
      },
      () => {
        failed++;
      },
    );
  }
}

function loop(pool: Pool, config: Config, nominal: number): void {
  let warmed = false;
  const arm = (): void => {
    if (stopped) return;
    const wait = nominal - Date.now();
    if (!warmed && wait <= WARM_LEAD_MS) {
      warmed = true;
      warm(pool, config.paths.length);
    }
    if (wait <= SPIN_LEAD_MS) {
      while (Date.now() < nominal) {
        // spin the last few milliseconds: never before the slot
      }
      fire(pool, config.paths, nominal);
      loop(pool, config, nominal + config.periodMs);
      return;
    }
    timer = setTimeout(arm, warmed ? wait - SPIN_LEAD_MS : wait - WARM_LEAD_MS);
  };
  arm();
}

process.on('message', (msg: { cmd: 'start'; config: Config } | { cmd: 'stop' }) => {
  if (msg.cmd === 'start') {
    const { url, paths, periodMs } = msg.config;
    const pool = new Pool(url, { connections: CONNECTIONS, keepAliveTimeout: 30_000 });
    const marked = paths.map((p) => `${p}?via=bare`);
    // the first slot at least 300 ms away, as for the connector once it is ready
    const first = Math.ceil((Date.now() + 300) / periodMs) * periodMs;
    loop(pool, { url, paths: marked, periodMs }, first);
    process.send?.({ ready: true, functions: paths.length });
  } else {
    stopped = true;
    clearTimeout(timer);
    process.send?.({ ok, failed }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

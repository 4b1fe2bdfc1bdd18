/**
 * Calibration client, run as its own process: what this machine allows, whatever the connector
 * does. Two measurements against the same bench gateway:
 *   ceiling  N POSTs as fast as undici can send them over `connections` keep-alive connections:
 *            the most invocations per second the machine can carry with one HTTP request each;
 *   floor    one POST per slot, `slots` slots, woken either by a plain setTimeout (like a
 *            scheduler) or by a timer armed 3 ms early and a spin until the slot, over a
 *            connection warmed 300 ms before: the lateness an ideal single-function scheduler
 *            gets here.
 */
import { Agent } from 'undici';

type Command =
  | { readonly mode: 'ceiling'; readonly url: string; readonly n: number; readonly connections: number }
  | { readonly mode: 'floor'; readonly url: string; readonly slots: number; readonly spin: boolean; readonly path: string };

const SPIN_LEAD_MS = 3;

async function post(agent: Agent, origin: string, path: string, nominal: number): Promise<void> {
  const res = await agent.request({ origin, path, method: 'POST', headers: { 'x-cron-scheduled-time': new Date(nominal).toISOString() }, body: '' });
  await res.body.dump();
}

async function ceiling(url: string, n: number, connections: number): Promise<{ rate: number; cpuUsPerRequest: number; elapsedMs: number }> {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 });
  const nominal = Date.now();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < n) {
        next++;
        await post(agent, url, '/function/ceiling.calibration', nominal);
      }
    }),
  );
  const elapsedMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  await agent.close();
  return { rate: (n / elapsedMs) * 1000, cpuUsPerRequest: (used.user + used.system) / n, elapsedMs };
}

function wakeAt(nominal: number, spin: boolean): Promise<void> {
  return new Promise((resolve) => {
    const arm = (): void => {
      const wait = nominal - Date.now();
      if (wait <= 0) return resolve();
      if (spin && wait <= SPIN_LEAD_MS) {
        while (Date.now() < nominal) {
          // spin: the last few milliseconds, never past the slot and never before it
        }
        return resolve();
      }
      setTimeout(arm, spin ? Math.max(0, wait - SPIN_LEAD_MS) : Math.ceil(wait));
    };
    arm();
  });
}

async function floor(url: string, slots: number, spin: boolean, path: string): Promise<{ timerLateMs: number[] }> {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
  const timerLateMs: number[] = [];
  for (let i = 0; i < slots; i++) {
    const nominal = Math.ceil((Date.now() + 400) / 1000) * 1000;
    if (spin) setTimeout(() => void post(agent, url, '/healthz', nominal).catch(() => undefined), Math.max(0, nominal - 300 - Date.now()));
    await wakeAt(nominal, spin);
    timerLateMs.push(performance.timeOrigin + performance.now() - nominal);
    await post(agent, url, path, nominal);
  }
  await agent.close();
  return { timerLateMs };
}

process.on('message', (cmd: Command) => {
  const done = cmd.mode === 'ceiling' ? ceiling(cmd.url, cmd.n, cmd.connections) : floor(cmd.url, cmd.slots, cmd.spin, cmd.path);
  done.then(
    (result) => process.send?.({ ok: true, result }),
    (err: unknown) => process.send?.({ ok: false, error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));

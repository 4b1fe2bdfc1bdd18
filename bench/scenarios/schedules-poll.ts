/**
 * GET /schedules under polling (issue 9): does a client polling the status endpoint back to back
 * move the lateness of a function firing every second?
 *
 * One connector process, http_port on a free loopback port, timezone=Europe/London (the zone in
 * which croner's next-time computation is costly), debug=true (every discovery pass logs
 * `Discovery complete`, to say which windows one fell in). The gateway serves `functions`
 * functions on `* * * * *` over 10 namespaces plus ONE function on `* * * * * *` (namespace
 * `tick`). The every-second function is measured over windows of `windowS` consecutive slots, in
 * four phases:
 *   none        nobody polls
 *   default     one client polls `GET /schedules` back to back (default page, 100 functions)
 *   limit1000   one client polls `GET /schedules?limit=1000` back to back
 *   concurrent  8 clients poll `GET /schedules` back to back (beyond 4 waiting, the connector answers
 *               503, since e2ec1e8 after holding the request a second)
 * Pollers are undici Clients in the harness process, one keep-alive connection each, that send the
 * next request as soon as an answer's last byte arrived (Retry-After is not honoured); they start
 * 1.5 s before a window's first slot (0.5 s when not aligned) and stop 300 ms after its last.
 * Lateness = arrival at the gateway − X-Cron-Scheduled-Time, as in every scenario.
 *
 * Full run: windows are aligned to the minute, slots :05–:24 and :35–:54, clear of the 10,000
 * invocations every minute fires at :00 (they take 1.5–2.5 s here); a round is the four phases,
 * two minutes, the phase order rotated by one each round so each phase sees both halves of the
 * minute. Smoke run: windows back to back from readiness, minute slots wherever they fall.
 */
import { Client } from 'undici';
import { ConnectorRun, connectorEnv, parseLoggedDuration } from '../lib/connector.ts';
import type { BenchGateway } from '../lib/gateway.ts';
import { loadAverage, runQueueWaitMs, sample, Sampler } from '../lib/proc.ts';
import type { InvocationRecords } from '../lib/protocol.ts';
import { sleep, sleepUntil } from '../lib/slots.ts';
import { distribution, round, type Distribution } from '../lib/stats.ts';
import { freePort } from '../../test/helpers/ports.ts';

export interface SchedulesConfig {
  /** Functions on minute slots (`* * * * *`), besides the one firing every second. */
  readonly functions: number;
  /** Slots of the every-second function measured per window. */
  readonly windowS: number;
  /** Windows per phase (each round runs every phase once). */
  readonly rounds: number;
  /** Windows at :05 and :35 of a minute, clear of the minute slots (full); else back to back (smoke). */
  readonly aligned: boolean;
}

export const FULL_SCHEDULES: SchedulesConfig = { functions: 10_000, windowS: 20, rounds: 5, aligned: true };
export const SMOKE_SCHEDULES: SchedulesConfig = { functions: 200, windowS: 2, rounds: 1, aligned: false };

export type SchedulesPhaseName = 'none' | 'default' | 'limit1000' | 'concurrent';

export interface SchedulesPhase {
  readonly name: SchedulesPhaseName;
  readonly label: string;
  readonly pollers: number;
  /** Path and query polled (empty: nobody polls). */
  readonly path: string;
}

export const PHASES: readonly SchedulesPhase[] = [
  { name: 'none', label: 'nobody polling', pollers: 0, path: '' },
  { name: 'default', label: '1 poller, default page', pollers: 1, path: '/schedules' },
  { name: 'limit1000', label: '1 poller, `?limit=1000`', pollers: 1, path: '/schedules?limit=1000' },
  { name: 'concurrent', label: '8 pollers, default page', pollers: 8, path: '/schedules' },
];

export interface PollFigures {
  /** Time the pollers ran, ms (summed over windows). */
  readonly durationMs: number;
  /** 200 answers. */
  readonly ok: number;
  readonly busy: number;
  /** Other statuses and failed requests. */
  readonly failed: number;
  /** 200 answers per second of polling. */
  readonly okPerS: number;
  readonly busyPerS: number;
  /** Request sent → last byte received, of the 200 answers, ms. */
  readonly responseMs: Distribution;
  /** Of the 503 answers, ms. */
  readonly busyResponseMs: Distribution;
  /** Mean body size of the 200 answers. */
  readonly bytesPerAnswer: number;
  /** `total.scheduled` of the first 200 answer. */
  readonly totalScheduled: number;
  /** Functions on the first 200 answer's page. */
  readonly pageSize: number;
}

export interface SchedulesPhaseResult {
  readonly phase: SchedulesPhase;
  readonly windows: number;
  /** Slots of the every-second function in the windows. */
  readonly slots: number;
  /** Distinct slots that arrived (first attempts). */
  readonly fired: number;
  readonly duplicates: number;
  readonly early: number;
  readonly retries: number;
  /** Lateness of the every-second function over every slot of the phase's windows. */
  readonly lateness: Distribution;
  /** Every slot's lateness, ms (0.01 ms), in the order the slots fired. */
  readonly lateMs: readonly number[];
  /** Per window: its first slot (ISO) and the largest lateness in it. */
  readonly perWindow: ReadonlyArray<{ readonly start: string; readonly p50: number; readonly max: number; readonly passes: number }>;
  readonly poll: PollFigures | undefined;
  /** Connector CPU while the pollers ran (or over the window), percent of one core. */
  readonly cpuPct: number;
  /** CPU of the harness process (the pollers) over the same span, percent of one core. */
  readonly pollerCpuPct: number;
  /** Time the connector's main thread was runnable but waiting for a CPU, ms per second of the same span. */
  readonly runQueueMsPerS: number;
  /** Mean 1-minute load average at the windows' starts (the machine, every process). */
  readonly loadAvg: number;
  /** Slots later than SLOW_MS, and how many of them fell inside a discovery pass or the second after it. */
  readonly slow: number;
  readonly slowNearPass: number;
  /** The slowest slots (at most 10): nominal time, lateness, and where the nearest discovery pass was. */
  readonly slowest: ReadonlyArray<{ readonly at: string; readonly lateMs: number; readonly pass: string }>;
  /** Discovery passes that completed inside the phase's windows. */
  readonly passesInWindows: number;
}

export interface SchedulesResult {
  readonly config: SchedulesConfig;
  readonly timezone: string;
  readonly port: number;
  readonly phases: readonly SchedulesPhaseResult[];
  readonly firstPassMs: number;
  /** Discovery passes over the run and the longest one (the connector's own figure). */
  readonly passes: number;
  readonly longestPassMs: number;
  readonly peakRssMb: number;
  /** Every connector invocation of the scenario (the minute slots included) and those that arrived early. */
  readonly invocations: number;
  readonly early: number;
  readonly problems: readonly string[];
}

const TIMEZONE = 'Europe/London';
/** A slot later than this counts as slow (the unpolled p50 is 2–3 ms here). */
export const SLOW_MS = 5;
const TICK_PATH = '/function/tick00000.tick';

interface PollSample {
  readonly status: number;
  readonly ms: number;
  readonly bytes: number;
  readonly body?: string;
}

/** `count` clients polling `path` back to back, one keep-alive connection each, until stopped. */
class Pollers {
  readonly samples: PollSample[] = [];
  readonly startedAt = performance.now();
  stoppedAt = Number.NaN;
  private stopping = false;
  private readonly done: Promise<void>;

  constructor(origin: string, count: number, path: string) {
    const clients = Array.from({ length: count }, () => new Client(origin, { pipelining: 1, keepAliveTimeout: 10_000 }));
    this.done = Promise.all(clients.map((c) => this.loop(c, path))).then(async () => {
      this.stoppedAt = performance.now();
      await Promise.all(clients.map((c) => c.close()));
    });
  }

  private async loop(client: Client, path: string): Promise<void> {
    while (!this.stopping) {
      const t0 = performance.now();
      try {
        const res = await client.request({ path, method: 'GET' });
        const body = Buffer.from(await res.body.arrayBuffer());
        const keep = res.statusCode === 200 && !this.samples.some((s) => s.status === 200);
        this.samples.push({ status: res.statusCode, ms: performance.now() - t0, bytes: body.length, ...(keep ? { body: body.toString('utf8') } : {}) });
      } catch {
        this.samples.push({ status: 0, ms: performance.now() - t0, bytes: 0 });
        await sleep(20);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

function pollFigures(runs: readonly Pollers[]): PollFigures {
  const samples = runs.flatMap((p) => p.samples);
  const durationMs = runs.reduce((a, p) => a + (p.stoppedAt - p.startedAt), 0);
  const ok = samples.filter((s) => s.status === 200);
  const busy = samples.filter((s) => s.status === 503);
  let totalScheduled = Number.NaN;
  let pageSize = Number.NaN;
  const first = ok.find((s) => s.body !== undefined)?.body;
  if (first !== undefined) {
    const doc = JSON.parse(first) as { total?: { scheduled?: number }; scheduled?: unknown[] };
    totalScheduled = doc.total?.scheduled ?? Number.NaN;
    pageSize = doc.scheduled?.length ?? Number.NaN;
  }
  return {
    durationMs: round(durationMs, 0),
    ok: ok.length,
    busy: busy.length,
    failed: samples.length - ok.length - busy.length,
    okPerS: (ok.length / durationMs) * 1000,
    busyPerS: (busy.length / durationMs) * 1000,
    responseMs: distribution(ok.map((s) => s.ms)),
    busyResponseMs: distribution(busy.map((s) => s.ms)),
    bytesPerAnswer: ok.length === 0 ? Number.NaN : ok.reduce((a, s) => a + s.bytes, 0) / ok.length,
    totalScheduled,
    pageSize,
  };
}

/** First slot of the next window that leaves `leadMs` from `after`. */
function windowStart(c: SchedulesConfig, after: number, leadMs: number): number {
  if (!c.aligned) return Math.ceil((after + leadMs) / 1000) * 1000;
  const minute = Math.floor(after / 60_000) * 60_000;
  for (let m = minute; ; m += 60_000) {
    for (const offset of [5000, 35_000]) if (m + offset >= after + leadMs) return m + offset;
  }
}

interface TickSlots {
  late: number[];
  slots: Array<{ nominal: number; late: number }>;
  fired: Set<number>;
  duplicates: number;
  early: number;
  retries: number;
}

/** The every-second function's first attempts for `nominals`. */
function tickSlots(r: InvocationRecords, nominals: ReadonlySet<number>, into: TickSlots): number[] {
  const late: number[] = [];
  for (let i = 0; i < r.path.length; i++) {
    if (r.path[i] !== TICK_PATH) continue;
    const nominal = r.nominal[i] as number;
    if (!nominals.has(nominal)) continue;
    if ((r.attempt[i] ?? 1) > 1) {
      into.retries++;
      continue;
    }
    if ((r.wall[i] as number) < nominal) into.early++;
    if (into.fired.has(nominal)) into.duplicates++;
    into.fired.add(nominal);
    late.push((r.at[i] as number) - nominal);
    into.slots.push({ nominal, late: (r.at[i] as number) - nominal });
  }
  into.late.push(...late);
  return late;
}

export async function runSchedules(gw: BenchGateway, c: SchedulesConfig, log: (line: string) => void): Promise<SchedulesResult> {
  const namespaces = c.functions >= 1000 ? 10 : 1;
  await gw.setPopulation({
    groups: [
      { nsPrefix: 'minute', namespaces, perNamespace: Math.ceil(c.functions / namespaces), namePrefix: 'fn', schedule: { kind: 'fixed', expr: '* * * * *' } },
      { nsPrefix: 'tick', namespaces: 1, perNamespace: 1, namePrefix: 'tick', schedule: { kind: 'fixed', expr: '* * * * * *' } },
    ],
  });
  await gw.takeInvocations();
  await gw.anchor();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const run = await ConnectorRun.start(connectorEnv(gw, { http_port: String(port), timezone: TIMEZONE, debug: 'true' }));
  const sampler = new Sampler(run.pid, 1000);
  interface Acc {
    ticks: TickSlots;
    polls: Pollers[];
    cpuMs: number;
    waitMs: number;
    harnessUs: number;
    wallMs: number;
    loads: number[];
    windows: Array<{ start: number; end: number; late: number[] }>;
  }
  const byPhase = new Map<SchedulesPhaseName, Acc>();
  for (const p of PHASES) {
    byPhase.set(p.name, { ticks: { late: [], slots: [], fired: new Set(), duplicates: 0, early: 0, retries: 0 }, polls: [], cpuMs: 0, waitMs: 0, harnessUs: 0, wallMs: 0, loads: [], windows: [] });
  }
  let invocations = 0;
  let early = 0;
  const take = async (): Promise<InvocationRecords> => {
    const r = await gw.takeInvocations();
    invocations += r.total;
    early += r.early;
    return r;
  };
  let firstPassMs: number;
  try {
    const first = await run.waitFor((l) => l.msg === 'Discovery complete', 120_000, 'the first discovery pass');
    firstPassMs = parseLoggedDuration(first['duration']);
    if (first['functions'] !== c.functions + 1) throw new Error(`the first pass scheduled ${String(first['functions'])} functions, expected ${c.functions + 1}`);
    const leadMs = c.aligned ? 1500 : 500;
    let after = Date.now();
    for (let roundIndex = 0; roundIndex < c.rounds; roundIndex++) {
      for (let k = 0; k < PHASES.length; k++) {
        const phase = PHASES[(k + roundIndex) % PHASES.length] as SchedulesPhase;
        const acc = byPhase.get(phase.name);
        if (acc === undefined || !run.running) continue;
        const start = windowStart(c, after, leadMs + 200);
        const nominals = Array.from({ length: c.windowS }, (_, i) => start + i * 1000);
        const last = nominals[nominals.length - 1] as number;
        await sleepUntil(start - leadMs);
        acc.loads.push(loadAverage());
        const wait0 = runQueueWaitMs(run.pid);
        const harness0 = process.cpuUsage();
        const cpu0 = sample(run.pid);
        const pollers = phase.pollers > 0 ? new Pollers(origin, phase.pollers, phase.path) : undefined;
        await sleepUntil(last + 300);
        await pollers?.stop();
        const cpu1 = sample(run.pid);
        const wait1 = runQueueWaitMs(run.pid);
        const harness = process.cpuUsage(harness0);
        if (cpu0 !== undefined && cpu1 !== undefined) {
          acc.cpuMs += cpu1.cpuMs - cpu0.cpuMs;
          acc.waitMs += wait1 - wait0;
          acc.harnessUs += harness.user + harness.system;
          acc.wallMs += cpu1.at - cpu0.at;
        }
        if (pollers !== undefined) acc.polls.push(pollers);
        // a late last slot still counts (bounded wait)
        const deadline = last + 5000;
        while (Date.now() < deadline && run.running && (await gw.count(last)).slot < 1) await sleep(50);
        const late = tickSlots(await take(), new Set(nominals), acc.ticks);
        acc.windows.push({ start, end: last + 1000, late });
        after = Date.now();
        const d = distribution(late);
        const okCount = pollers?.samples.filter((s) => s.status === 200).length ?? 0;
        const busyCount = pollers?.samples.filter((s) => s.status === 503).length ?? 0;
        log(
          `schedules round ${roundIndex + 1}/${c.rounds} ${phase.name}: ${d.count}/${c.windowS} slots, p50 ${d.p50.toFixed(2)} ms, max ${d.max.toFixed(2)} ms; ${okCount} answers, ${busyCount} 503`,
        );
      }
    }
    sampler.take();
  } finally {
    sampler.stop();
    await run.stop();
    await take();
  }
  const passTimes = run.byMsg('Discovery complete').map((l) => ({ at: Date.parse(String(l['time'])), ms: parseLoggedDuration(l['duration']) }));
  const inWindow = (w: { start: number; end: number }): number => passTimes.filter((p) => p.at >= w.start && p.at < w.end).length;
  // a pass runs from (completion − duration) to its completion; the first /schedules answer after it rebuilds the index
  const nearPass = (t: number): boolean => passTimes.some((p) => t >= p.at - p.ms - 50 && t <= p.at + 1000);
  const describePass = (t: number): string => {
    const nearest = passTimes.reduce<{ at: number; ms: number } | undefined>((best, p) => (best === undefined || Math.abs(p.at - t) < Math.abs(best.at - t) ? p : best), undefined);
    if (nearest === undefined) return 'no pass';
    const d = t - nearest.at;
    return `${d >= 0 ? `${Math.round(d)} ms after` : `${Math.round(-d)} ms before`} the end of a ${Math.round(nearest.ms)} ms pass`;
  };
  const phases = PHASES.map((phase): SchedulesPhaseResult => {
    const acc = byPhase.get(phase.name);
    if (acc === undefined) throw new Error(`no figures for ${phase.name}`);
    return {
      phase,
      windows: acc.windows.length,
      slots: acc.windows.length * c.windowS,
      fired: acc.ticks.fired.size,
      duplicates: acc.ticks.duplicates,
      early: acc.ticks.early,
      retries: acc.ticks.retries,
      lateness: distribution(acc.ticks.late),
      lateMs: acc.ticks.slots.map((x) => round(x.late, 2)),
      perWindow: acc.windows.map((w) => {
        const d = distribution(w.late);
        return { start: new Date(w.start).toISOString(), p50: d.p50, max: d.max, passes: inWindow(w) };
      }),
      poll: phase.pollers > 0 ? pollFigures(acc.polls) : undefined,
      cpuPct: acc.wallMs > 0 ? (acc.cpuMs / acc.wallMs) * 100 : Number.NaN,
      pollerCpuPct: acc.wallMs > 0 ? (acc.harnessUs / 1000 / acc.wallMs) * 100 : Number.NaN,
      runQueueMsPerS: acc.wallMs > 0 ? (acc.waitMs / acc.wallMs) * 1000 : Number.NaN,
      loadAvg: acc.loads.length === 0 ? Number.NaN : acc.loads.reduce((a, b) => a + b, 0) / acc.loads.length,
      slow: acc.ticks.slots.filter((x) => x.late > SLOW_MS).length,
      slowNearPass: acc.ticks.slots.filter((x) => x.late > SLOW_MS && nearPass(x.nominal)).length,
      slowest: [...acc.ticks.slots]
        .sort((a, b) => b.late - a.late)
        .slice(0, 10)
        .map((x) => ({ at: new Date(x.nominal).toISOString(), lateMs: round(x.late, 2), pass: describePass(x.nominal) })),
      passesInWindows: acc.windows.reduce((a, w) => a + inWindow(w), 0),
    };
  });
  return {
    config: c,
    timezone: TIMEZONE,
    port,
    phases,
    firstPassMs,
    passes: passTimes.length,
    longestPassMs: Math.max(...passTimes.map((p) => p.ms)),
    peakRssMb: sampler.peakRssMb,
    invocations,
    early,
    problems: [...(run.crash === undefined ? [] : [`connector ${run.crash}`]), ...run.problems().slice(0, 5).map((p) => JSON.stringify(p).slice(0, 240))],
  };
}

/**
 * High availability (issue 10): real connector processes (dist/main.js) with
 * leader_election=true, electing a leader on a Lease in the Kubernetes API emulator
 * (test/support/kube-api.ts, in the harness process, reached through a kubeconfig as outside a
 * cluster), invoking through the bench gateway, which records every invocation's arrival,
 * `X-Cron-Scheduled-Time`, `X-Cron-Attempt` and `X-Cron-Execution-Id`. `functions` functions on
 * `* * * * * *`. In order:
 *
 *   window (every second)  a steady minute with the leader in place: the Lease requests the API
 *                          server received (writes: create/update/patch; reads: get/list) and the
 *                          CPU of every replica (/proc, utime + stime), standbys and leader;
 *   kill -9 rounds         find the leader (the Lease's holderIdentity, and its own `Leadership
 *                          acquired`), SIGKILL it, time kill → `Leadership acquired` of the next
 *                          leader and kill → the first invocation it sent (arrival at the gateway),
 *                          then start a fresh replica in its place (a new Pod name);
 *   SIGTERM rounds         the same with SIGTERM: the leader stops firing, finishes its calls,
 *                          releases the Lease (`Lease released`); hand-over = release → the first
 *                          invocation of the next leader;
 *   window (every minute)  the functions switched to `* * * * *` (once every replica's discovery
 *                          has replaced them), another steady minute.
 *
 * Every round starts from a steady cluster: `replicas` processes, the Lease held by one that logged
 * `Leadership acquired` and has invoked since, every other one following it. The kill lands at a
 * random phase of the second. Duplicates are execution ids seen more than once among first
 * attempts (`X-Cron-Attempt: 1`); missed slots are, per function, the seconds between its first and
 * last invocation that never arrived. A failed round ends its phase (the rest is skipped and the
 * error reported); every process started is stopped whatever happens, and killed if the harness
 * exits first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApi, type KubeApiServer } from '../../test/support/kube-api.ts';
import { ConnectorRun, connectorEnv, type LogLine } from '../lib/connector.ts';
import type { BenchGateway } from '../lib/gateway.ts';
import { cpuPercent, sample, type ProcSample } from '../lib/proc.ts';
import { sleep } from '../lib/slots.ts';
import { distribution, type Distribution } from '../lib/stats.ts';

export interface ElectionDurations {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** The connector's defaults: the variables are left unset. */
  readonly defaults: boolean;
}

export interface HaConfig {
  readonly replicas: number;
  readonly functions: number;
  readonly killRounds: number;
  readonly termRounds: number;
  readonly election: ElectionDurations;
  /** The steady windows (API requests, CPU), ms. */
  readonly windowMs: number;
  /** Before the first window, after the cluster is steady. */
  readonly settleMs: number;
  readonly rebuildInterval: string;
  /** Kill or stop the leader at a random phase of the second (else as soon as the cluster is steady). */
  readonly randomPhase: boolean;
}

/** The connector's defaults (README, config.ts). */
export const DEFAULT_ELECTION: ElectionDurations = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, defaults: true };

export const FULL_HA: HaConfig = {
  replicas: 3,
  functions: 4,
  killRounds: 20,
  termRounds: 20,
  election: DEFAULT_ELECTION,
  windowMs: 60_000,
  settleMs: 10_000,
  rebuildInterval: '30s',
  randomPhase: true,
};
export const SMOKE_HA: HaConfig = {
  replicas: 2,
  functions: 4,
  killRounds: 1,
  termRounds: 1,
  election: { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300, defaults: false },
  windowMs: 5000,
  settleMs: 0,
  rebuildInterval: '1s',
  randomPhase: false,
};

/** An invocation later than this after its nominal time was run by a new leader's catch-up. */
export const CAUGHT_UP_MS = 250;

export interface HaRound {
  readonly from: string;
  readonly to: string;
  /** Signal → the next leader's `Leadership acquired` (its log time), ms. */
  readonly acquiredMs: number;
  /** Signal → the first invocation the next leader sent (arrival at the gateway), ms: the fail-over time of a kill -9. */
  readonly firstMs: number;
  /** SIGTERM → `Lease released` (the drain), ms. */
  readonly drainMs?: number;
  /** `Lease released` → the first invocation of the next leader, ms: the hand-over time of a SIGTERM. */
  readonly handOverMs?: number;
  /** Exit code of a stopped leader. */
  readonly exitCode?: number | null;
  /** Invocations of this round that arrived > CAUGHT_UP_MS after their slot (run by the catch-up). */
  readonly caughtUp: number;
  /** Execution ids first seen twice during this round. */
  readonly duplicates: number;
}

export interface SlotCheck {
  readonly invocations: number;
  /** (function, slot) pairs between each function's first and last slot. */
  readonly slots: number;
  readonly missed: number;
  /** Execution ids seen more than once (first attempts), and the arrivals beyond the first. */
  readonly duplicates: number;
  readonly extraArrivals: number;
  readonly caughtUp: number;
  readonly retries: number;
}

export interface HaPhase extends SlotCheck {
  readonly kind: 'kill' | 'term';
  readonly planned: number;
  readonly rounds: readonly HaRound[];
  /** kill: signal → first invocation of the next leader; term: release → first invocation. */
  readonly timeMs: Distribution;
  readonly acquiredMs: Distribution;
  readonly error?: string;
}

export interface HaWindow {
  readonly schedule: string;
  readonly windowMs: number;
  readonly leader: string;
  /** The Lease changed hands during the window (the figures then mean little). */
  readonly leaderChanged: boolean;
  readonly writes: number;
  readonly reads: number;
  readonly conflicts: number;
  readonly writesPerMin: number;
  readonly readsPerMin: number;
  readonly leaderCpuPct: number;
  readonly standbyCpuPct: readonly number[];
  readonly invocations: number;
  readonly error?: string;
}

export interface HaResult {
  readonly config: HaConfig;
  readonly durationS: number;
  readonly windows: readonly HaWindow[];
  readonly kill: HaPhase;
  readonly term: HaPhase;
  /** Every invocation of the run (both windows included). */
  readonly overall: SlotCheck;
  readonly replicasStarted: number;
  readonly invocations: number;
  readonly early: number;
  /** Warnings the replicas logged, by message, with one example each. */
  readonly warnings: ReadonlyArray<{ readonly msg: string; readonly count: number; readonly example: string }>;
  readonly problems: readonly string[];
}

// ---- invocations -------------------------------------------------------------------------

/** Every invocation the gateway recorded since the scenario started, pulled on demand. */
class Recorder {
  readonly path: string[] = [];
  readonly at: number[] = [];
  readonly nominal: number[] = [];
  readonly attempt: number[] = [];
  readonly execId: string[] = [];
  early = 0;
  total = 0;
  /** First attempts per execution id, and how many ids were seen twice or more so far. */
  private readonly ids = new Map<string, number>();
  duplicates = 0;

  private readonly gw: BenchGateway;

  constructor(gw: BenchGateway) {
    this.gw = gw;
  }

  get length(): number {
    return this.at.length;
  }

  async pull(): Promise<void> {
    const r = await this.gw.takeInvocations();
    this.early += r.early;
    this.total += r.total;
    for (let i = 0; i < r.at.length; i++) {
      this.path.push(r.path[i] ?? '');
      this.at.push(r.at[i] ?? Number.NaN);
      this.nominal.push(r.nominal[i] ?? Number.NaN);
      const attempt = r.attempt[i] ?? 1;
      this.attempt.push(attempt);
      const id = r.execId[i] ?? '';
      this.execId.push(id);
      if (attempt === 1) {
        const seen = (this.ids.get(id) ?? 0) + 1;
        this.ids.set(id, seen);
        if (seen === 2) this.duplicates++;
      }
    }
  }

  /** The earliest arrival after `t` among the records from index `from` on. */
  firstAfter(t: number, from = 0): number | undefined {
    let best: number | undefined;
    for (let i = from; i < this.at.length; i++) {
      const at = this.at[i] as number;
      if (at > t && (best === undefined || at < best)) best = at;
    }
    return best;
  }

  caughtUp(from: number, to = this.at.length): number {
    let n = 0;
    for (let i = from; i < to; i++) if ((this.at[i] as number) - (this.nominal[i] as number) > CAUGHT_UP_MS) n++;
    return n;
  }

  /** Missed slots and duplicates among the records [from, to); `periodOf` tells how often a function (path) fires. */
  check(from: number, to: number, periodOf: (path: string) => number): SlotCheck {
    const slots = new Map<string, Set<number>>();
    const ids = new Map<string, number>();
    let retries = 0;
    for (let i = from; i < to; i++) {
      if ((this.attempt[i] as number) > 1) {
        retries++;
        continue;
      }
      const nominal = this.nominal[i] as number;
      const path = this.path[i] as string;
      if (Number.isFinite(nominal)) {
        let s = slots.get(path);
        if (s === undefined) slots.set(path, (s = new Set()));
        s.add(nominal);
      }
      const id = this.execId[i] as string;
      ids.set(id, (ids.get(id) ?? 0) + 1);
    }
    let expected = 0;
    let missed = 0;
    for (const [path, s] of slots) {
      const sorted = [...s].sort((a, b) => a - b);
      const span = Math.round(((sorted[sorted.length - 1] as number) - (sorted[0] as number)) / periodOf(path)) + 1;
      expected += span;
      missed += span - sorted.length;
    }
    let duplicates = 0;
    let extra = 0;
    for (const count of ids.values()) {
      if (count > 1) {
        duplicates++;
        extra += count - 1;
      }
    }
    return { invocations: to - from, slots: expected, missed, duplicates, extraArrivals: extra, caughtUp: this.caughtUp(from, to), retries };
  }
}

// ---- the replicas ------------------------------------------------------------------------

interface Replica {
  readonly name: string;
  readonly run: ConnectorRun;
}

const LEASE_NAMESPACE = 'openfaas';
const LEASE_NAME = 'cron-connector';
const ROLE_EVENTS = new Set(['Leadership acquired', 'Leadership lost', 'Lease released', 'Following leader']);

const logTime = (l: LogLine | undefined): number => (l === undefined ? Number.NaN : Date.parse(String(l['time'])));

/** The last leadership event a replica logged. */
function lastRole(r: Replica): LogLine | undefined {
  for (let i = r.run.events.length - 1; i >= 0; i--) {
    const e = r.run.events[i] as LogLine;
    if (ROLE_EVENTS.has(e.msg ?? '')) return e;
  }
  return undefined;
}

class Cluster {
  /** Every replica started, in order (the exit handler kills those still running). */
  readonly started: Replica[] = [];
  live: Replica[] = [];
  private next = 1;
  private readonly env: Record<string, string>;
  private readonly kube: KubeApiServer;
  private readonly rec: Recorder;

  constructor(env: Record<string, string>, kube: KubeApiServer, rec: Recorder) {
    this.env = env;
    this.kube = kube;
    this.rec = rec;
  }

  async add(): Promise<Replica> {
    const name = `r${this.next++}`;
    const run = await ConnectorRun.start({ ...this.env, POD_NAME: name });
    const r = { name, run };
    this.started.push(r);
    this.live.push(r);
    return r;
  }

  remove(r: Replica): void {
    this.live = this.live.filter((x) => x !== r);
  }

  holder(): string | undefined {
    const spec = this.kube.getObject('leases', LEASE_NAMESPACE, LEASE_NAME)?.['spec'] as { holderIdentity?: string } | undefined;
    return spec?.holderIdentity === '' ? undefined : spec?.holderIdentity;
  }

  /**
   * Waits for a steady cluster and returns its leader: it holds the Lease, logged `Leadership
   * acquired` last and has invoked since; every other replica follows it.
   */
  async steady(timeoutMs: number): Promise<Replica> {
    let leader: Replica | undefined;
    await this.until(
      () => {
        const name = this.holder();
        leader = this.live.find((r) => r.name === name);
        if (leader === undefined) return false;
        const role = lastRole(leader);
        if (role?.msg !== 'Leadership acquired') return false;
        if (this.rec.firstAfter(logTime(role)) === undefined) return false;
        return this.live.every((r) => {
          if (r === leader) return true;
          const e = lastRole(r);
          return e?.msg === 'Following leader' && e['leader'] === name;
        });
      },
      timeoutMs,
      () => `a steady cluster (Lease held by ${this.holder() ?? 'nobody'}; ${this.live.map((r) => `${r.name}: ${lastRole(r)?.msg ?? 'no role yet'}`).join(', ')})`,
    );
    if (leader === undefined) throw new Error('no leader');
    return leader;
  }

  /** Polls `cond` (pulling the gateway's records first) every 50 ms; throws after `timeoutMs`. */
  async until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.rec.pull();
      if (cond()) return;
      const dead = this.live.find((r) => !r.run.running);
      if (dead !== undefined) throw new Error(`replica ${dead.name} ${dead.run.crash ?? 'exited'} while waiting for ${what()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
      await sleep(50);
    }
  }

  /** Stops every replica still running (SIGTERM, SIGKILL after 10 s). */
  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((r) => r.run.stop(10_000)));
    this.live = [];
  }

  /** Synchronous last resort when the harness exits with replicas still running. */
  killAll(): void {
    for (const r of this.started) {
      if (!r.run.running) continue;
      try {
        process.kill(r.run.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

// ---- the scenario ------------------------------------------------------------------------

function electionEnv(e: ElectionDurations): Record<string, string> {
  if (e.defaults) return {};
  return { lease_duration: `${e.leaseDurationMs}ms`, renew_deadline: `${e.renewDeadlineMs}ms`, retry_period: `${e.retryPeriodMs}ms` };
}

/** Name prefixes of the functions on `* * * * * *` and (at the end) on `* * * * *`: the minute ones are new functions. */
const SECONDLY = 'tick';
const MINUTELY = 'minute';
const periodOf = (path: string): number => (path.startsWith(`/function/${MINUTELY}`) ? 60_000 : 1000);

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 600);

export async function runHa(gw: BenchGateway, c: HaConfig, log: (line: string) => void): Promise<HaResult> {
  const startedAt = Date.now();
  const e = c.election;
  const population = (namePrefix: string, expr: string) => ({
    groups: [{ nsPrefix: 'ha', namespaces: 1, perNamespace: c.functions, namePrefix, schedule: { kind: 'fixed' as const, expr } }],
  });
  await gw.setPopulation(population(SECONDLY, '* * * * * *'));
  await gw.recordMode(true);
  await gw.takeInvocations();
  await gw.anchor();
  const kube = await startKubeApi();
  const dir = await mkdtemp(join(tmpdir(), 'bench-ha-'));
  const rec = new Recorder(gw);
  const problems: string[] = [];
  const env = connectorEnv(gw, {
    rebuild_interval: c.rebuildInterval,
    debug: 'true',
    leader_election: 'true',
    POD_NAMESPACE: LEASE_NAMESPACE,
    lease_name: LEASE_NAME,
    KUBECONFIG: await kube.writeKubeconfig(dir, { namespace: LEASE_NAMESPACE }),
    ...electionEnv(e),
  });
  const cluster = new Cluster(env, kube, rec);
  const onExit = (): void => cluster.killAll();
  process.on('exit', onExit);
  // generous bounds: a round that takes longer than these has failed
  const steadyMs = 2 * e.leaseDurationMs + 4 * e.retryPeriodMs + 20_000;
  const takeOverMs = e.leaseDurationMs + 4 * e.retryPeriodMs + 10_000;
  const phase = (): Promise<void> => (c.randomPhase ? sleep(Math.random() * 1000) : Promise.resolve());

  const window = async (schedule: string): Promise<HaWindow> => {
    const leader = await cluster.steady(steadyMs);
    const standbys = cluster.live.filter((r) => r !== leader);
    const mark = rec.length;
    const from = Date.now();
    const before = new Map<Replica, ProcSample | undefined>(cluster.live.map((r) => [r, sample(r.run.pid)]));
    await sleep(c.windowMs);
    const to = Date.now();
    const after = new Map<Replica, ProcSample | undefined>(cluster.live.map((r) => [r, sample(r.run.pid)]));
    await rec.pull();
    const cpu = (r: Replica): number => {
      const a = before.get(r);
      const b = after.get(r);
      return a === undefined || b === undefined ? Number.NaN : cpuPercent(a, b);
    };
    const leases = kube.requests.filter((q) => q.resource === 'leases' && q.at >= from && q.at < to);
    const writes = leases.filter((q) => q.verb === 'create' || q.verb === 'update' || q.verb === 'patch');
    const reads = leases.filter((q) => q.verb === 'get' || q.verb === 'list');
    const perMin = (n: number): number => (n * 60_000) / (to - from);
    const changed = cluster.holder() !== leader.name || leader.run.events.some((l) => l.msg === 'Leadership lost' && l.rx >= from);
    const w: HaWindow = {
      schedule,
      windowMs: to - from,
      leader: leader.name,
      leaderChanged: changed,
      writes: writes.length,
      reads: reads.length,
      conflicts: writes.filter((q) => q.status === 409).length,
      writesPerMin: perMin(writes.length),
      readsPerMin: perMin(reads.length),
      leaderCpuPct: cpu(leader),
      standbyCpuPct: standbys.map(cpu),
      invocations: rec.length - mark,
    };
    log(
      `ha window ${schedule}: ${w.writesPerMin.toFixed(1)} Lease writes/min, ${w.readsPerMin.toFixed(1)} reads/min, ${w.conflicts} conflicts; CPU leader ${w.leaderCpuPct.toFixed(2)}%, standbys ${w.standbyCpuPct.map((x) => `${x.toFixed(2)}%`).join(', ')}`,
    );
    return w;
  };
  const failedWindow = (schedule: string, err: unknown): HaWindow => ({
    schedule,
    windowMs: 0,
    leader: '',
    leaderChanged: false,
    writes: Number.NaN,
    reads: Number.NaN,
    conflicts: Number.NaN,
    writesPerMin: Number.NaN,
    readsPerMin: Number.NaN,
    leaderCpuPct: Number.NaN,
    standbyCpuPct: [],
    invocations: 0,
    error: message(err),
  });

  /** One kill -9 (or SIGTERM) of the leader, measured, and a fresh replica in its place. */
  const round = async (kind: 'kill' | 'term', k: number, total: number): Promise<HaRound> => {
    const leader = await cluster.steady(steadyMs);
    await phase();
    const mark = rec.length;
    const dupsBefore = rec.duplicates;
    const signalAt = Date.now();
    let exitCode: number | null | undefined;
    if (kind === 'kill') await leader.run.kill();
    else exitCode = (await leader.run.stop(20_000)).code;
    cluster.remove(leader);
    const released = kind === 'term' ? logTime(leader.run.byMsg('Lease released')[0]) : Number.NaN;
    if (kind === 'term' && !Number.isFinite(released)) problems.push(`SIGTERM round ${k}: ${leader.name} did not log \`Lease released\``);
    // arrivals after this are the next leader's: a killed process sends nothing, a stopped one sent its last before releasing
    const since = kind === 'kill' ? signalAt + 100 : Number.isFinite(released) ? released : signalAt + 100;
    let next: Replica | undefined;
    let acquired: LogLine | undefined;
    await cluster.until(
      () => {
        for (const r of cluster.live) {
          const a = r.run.events.find((l) => l.msg === 'Leadership acquired' && logTime(l) >= signalAt);
          if (a !== undefined) {
            next = r;
            acquired = a;
          }
        }
        return next !== undefined && rec.firstAfter(since, mark) !== undefined;
      },
      takeOverMs,
      () => `a new leader after the ${kind === 'kill' ? 'kill -9' : 'SIGTERM'} of ${leader.name} (Lease held by ${cluster.holder() ?? 'nobody'})`,
    );
    const first = rec.firstAfter(since, mark) ?? Number.NaN;
    // the catch-up of the new leader is sent at once; give it a moment before counting
    await sleep(300);
    await rec.pull();
    await cluster.add();
    const r: HaRound = {
      from: leader.name,
      to: next?.name ?? '',
      acquiredMs: logTime(acquired) - signalAt,
      firstMs: first - signalAt,
      ...(kind === 'term' ? { drainMs: released - signalAt, handOverMs: first - released, exitCode: exitCode ?? null } : {}),
      caughtUp: rec.caughtUp(mark),
      duplicates: rec.duplicates - dupsBefore,
    };
    log(
      `ha ${kind === 'kill' ? 'kill -9' : 'SIGTERM'} ${k}/${total}: ${r.from} → ${r.to}, acquired after ${(r.acquiredMs / 1000).toFixed(2)} s, first invocation after ${(r.firstMs / 1000).toFixed(2)} s${r.handOverMs === undefined ? '' : ` (drain ${r.drainMs?.toFixed(0)} ms, hand-over ${r.handOverMs.toFixed(0)} ms)`}, ${r.caughtUp} caught up, ${r.duplicates} duplicates`,
    );
    return r;
  };

  const rounds = async (kind: 'kill' | 'term', planned: number): Promise<HaPhase> => {
    const done: HaRound[] = [];
    const mark = rec.length;
    let error: string | undefined;
    try {
      for (let k = 1; k <= planned; k++) done.push(await round(kind, k, planned));
      await cluster.steady(steadyMs);
    } catch (err) {
      error = message(err);
      problems.push(`${kind === 'kill' ? 'kill -9' : 'SIGTERM'} rounds: ${error}`);
      log(`ha ${kind}: ${error}`);
      await recover();
    }
    await rec.pull();
    const times = done.map((r) => (kind === 'kill' ? r.firstMs : (r.handOverMs ?? Number.NaN))).filter((v) => Number.isFinite(v));
    return {
      kind,
      planned,
      rounds: done,
      timeMs: distribution(times),
      acquiredMs: distribution(done.map((r) => r.acquiredMs).filter((v) => Number.isFinite(v))),
      ...rec.check(mark, rec.length, periodOf),
      ...(error === undefined ? {} : { error }),
    };
  };

  /** After a failure: a whole new set of replicas (the Lease stays: the next leader waits it out). */
  const recover = async (): Promise<void> => {
    await Promise.all(cluster.live.map((r) => r.run.stop(10_000)));
    cluster.live = [];
    for (let i = 0; i < c.replicas; i++) await cluster.add();
    await cluster.steady(steadyMs);
  };

  let windows: HaWindow[] | undefined;
  let kill: HaPhase | undefined;
  let term: HaPhase | undefined;
  try {
    for (let i = 0; i < c.replicas; i++) await cluster.add();
    log(`ha: ${c.replicas} replicas, ${c.functions} functions on \`* * * * * *\`, lease_duration ${e.leaseDurationMs} ms, renew_deadline ${e.renewDeadlineMs} ms, retry_period ${e.retryPeriodMs} ms${e.defaults ? ' (defaults)' : ''}`);
    await cluster.steady(steadyMs);
    await sleep(c.settleMs);
    const secondly = await window('* * * * * *').catch(async (err: unknown) => {
      problems.push(`window * * * * * *: ${message(err)}`);
      await recover();
      return failedWindow('* * * * * *', err);
    });
    kill = await rounds('kill', c.killRounds);
    term = await rounds('term', c.termRounds);
    // the functions on minute slots only: once every replica's discovery has replaced them
    const switched = Date.now();
    await gw.setPopulation(population(MINUTELY, '* * * * *'));
    const minutely = await cluster
      .until(
        () => cluster.live.every((r) => r.run.events.some((l) => l.msg === 'Discovery complete' && l.rx > switched && Number(l['added']) === c.functions && Number(l['removed']) === c.functions)),
        60_000,
        () => 'every replica to reschedule the functions on `* * * * *`',
      )
      .then(() => window('* * * * *'))
      .catch((err: unknown) => {
        problems.push(`window * * * * *: ${message(err)}`);
        return failedWindow('* * * * *', err);
      });
    windows = [secondly, minutely];
  } finally {
    await cluster.stopAll();
    process.off('exit', onExit);
    await kube.close();
    await rm(dir, { recursive: true, force: true });
  }
  await rec.pull();
  const counts = new Map<string, { count: number; example: string }>();
  for (const r of cluster.started) {
    for (const l of r.run.problems()) {
      const msg = l.msg ?? '?';
      const entry = counts.get(msg) ?? { count: 0, example: JSON.stringify({ ...l, rx: undefined }).slice(0, 300) };
      entry.count++;
      counts.set(msg, entry);
    }
    if (r.run.crash !== undefined) problems.push(`${r.name} ${r.run.crash}`);
  }
  const none = (kind: 'kill' | 'term', planned: number): HaPhase => ({
    kind,
    planned,
    rounds: [],
    timeMs: distribution([]),
    acquiredMs: distribution([]),
    invocations: 0,
    slots: 0,
    missed: 0,
    duplicates: 0,
    extraArrivals: 0,
    caughtUp: 0,
    retries: 0,
    error: 'not run',
  });
  return {
    config: c,
    durationS: Math.round((Date.now() - startedAt) / 1000),
    windows: windows ?? [],
    kill: kill ?? none('kill', c.killRounds),
    term: term ?? none('term', c.termRounds),
    overall: rec.check(0, rec.length, periodOf),
    replicasStarted: cluster.started.length,
    invocations: rec.total,
    early: rec.early,
    warnings: [...counts].map(([msg, v]) => ({ msg, ...v })).sort((a, b) => b.count - a.count),
    problems,
  };
}

/**
 * Resource readings of a child process from /proc (Linux): resident memory (VmRSS, peak VmHWM)
 * and CPU time (utime + stime). Nothing here is sampled by the measured process itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** Date.now() of the reading. */
  readonly at: number;
  /** Resident set size, MB (VmRSS). */
  readonly rssMb: number;
  /** Peak resident set size so far, MB (VmHWM). */
  readonly hwmMb: number;
  /** CPU time consumed so far (user + system), ms. */
  readonly cpuMs: number;
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024;
}

/** One reading, or undefined when the process is gone. */
export function sample(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based in proc(5)).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    const rssMb = statusField(status, 'VmRSS');
    // A process that has exited but is not reaped yet (zombie) has no memory lines.
    if (!Number.isFinite(rssMb)) return undefined;
    return { at: Date.now(), rssMb, hwmMb: statusField(status, 'VmHWM'), cpuMs: (ticks * 1000) / ticksPerSecond() };
  } catch {
    return undefined;
  }
}

/** Samples a process at a fixed interval until stopped; keeps every reading (for curves). */
export class Sampler {
  readonly samples: ProcSample[] = [];
  private readonly pid: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(pid: number, intervalMs: number) {
    this.pid = pid;
    this.take();
    this.timer = setInterval(() => this.take(), intervalMs);
  }

  take(): ProcSample | undefined {
    const s = sample(this.pid);
    if (s !== undefined) this.samples.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get peakRssMb(): number {
    const values = this.samples.map((s) => s.hwmMb).filter((v) => Number.isFinite(v));
    return values.length === 0 ? Number.NaN : Math.max(...values);
  }
}

/** CPU use between two readings, in percent of one core. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const wall = to.at - from.at;
  return wall <= 0 ? Number.NaN : ((to.cpuMs - from.cpuMs) / wall) * 100;
}

/** Machine-wide CPU counters from /proc/stat (ticks): total, idle (idle + iowait) and stolen by the hypervisor. */
export function cpuTicks(): { total: number; idle: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    return { total: fields.reduce((a, b) => a + b, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0), steal: fields[7] ?? 0 };
  } catch {
    return { total: Number.NaN, idle: Number.NaN, steal: Number.NaN };
  }
}

/** The 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}

/**
 * Time a thread has spent runnable but waiting for a CPU so far, ms (/proc/<pid>/task/<tid>/schedstat,
 * second field, ns); `tid` defaults to the main thread. NaN when the kernel does not report it.
 */
export function runQueueWaitMs(pid: number, tid = pid): number {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/);
    return Number(fields[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

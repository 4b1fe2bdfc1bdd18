/** The machine a run measured: cores, CPU model, memory, Node.js, kernel, and the source revision. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly cores: number;
  readonly model: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly kernel: string;
  readonly revision: string;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return match?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function memoryGb(): number {
  try {
    const match = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return match?.[1] === undefined ? os.totalmem() / 2 ** 30 : Number(match[1]) / 2 ** 20;
  } catch {
    return os.totalmem() / 2 ** 30;
  }
}

function revision(cwd: string): string {
  const label = process.env['BENCH_REVISION'];
  if (label !== undefined && label !== '') return label;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted src changes` : head;
  } catch {
    return 'unknown';
  }
}

export function machine(cwd: string): Machine {
  return {
    cores: os.availableParallelism(),
    model: cpuModel(),
    memoryGb: Math.round(memoryGb() * 10) / 10,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    revision: revision(cwd),
  };
}

/** Memory of a running process from /proc/<pid>/status (Linux), for coarse leak and bound checks. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  rssBytes: number;
  /** Peak resident set size since the process started (VmHWM). */
  peakRssBytes: number;
}

export const MiB = 1024 * 1024;
const CHART_VALUES = fileURLToPath(new URL('../../chart/cron-connector/values.yaml', import.meta.url));

export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssBytes: statusKiB(status, 'VmRSS') * 1024, peakRssBytes: statusKiB(status, 'VmHWM') * 1024 };
}

function statusKiB(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match?.[1] === undefined) throw new Error(`no ${field} in /proc status`);
  return Number(match[1]);
}

/** The memory limit the Helm chart gives the connector by default (`resources.limits.memory`), in bytes. */
export function chartMemoryLimitBytes(): number {
  const values = parse(readFileSync(CHART_VALUES, 'utf8')) as { resources?: { limits?: { memory?: unknown } } };
  const limit = values.resources?.limits?.memory;
  const match = typeof limit === 'string' ? /^(\d+)(Mi|Gi)$/.exec(limit) : null;
  if (match?.[1] === undefined) throw new Error(`unexpected resources.limits.memory in ${CHART_VALUES}: ${String(limit)}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 * MiB : MiB);
}

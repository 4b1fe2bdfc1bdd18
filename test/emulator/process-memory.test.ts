import { describe, expect, it } from 'vitest';
import { MiB, chartMemoryLimitBytes, processMemory } from '../support/process-memory.ts';

describe('process memory', () => {
  it('reads the resident and peak resident set size of a running process', () => {
    const memory = processMemory(process.pid);
    expect(memory.rssBytes).toBeGreaterThan(MiB);
    expect(memory.peakRssBytes).toBeGreaterThanOrEqual(memory.rssBytes);
  });

  it('fails clearly for a process that does not exist', () => {
    expect(() => processMemory(2 ** 22 + 1)).toThrow(/ENOENT/);
  });

  it('reads the memory limit the Helm chart sets by default', () => {
    expect(chartMemoryLimitBytes()).toBe(320 * MiB);
  });
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/demo.ts', import.meta.url));

function runDemo(seconds: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '', DEMO_SECONDS: String(seconds), log_encoding: 'console' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run demo', () => {
  it('should show Added, Invoking and Response for dev, a warning for the bad schedule, and nothing for staging', async () => {
    const { code, out } = await runDemo(6);
    expect(code).toBe(0);
    expect(out).toMatch(/\tinfo\tAdded\t\{"function":"nodeinfo\.dev","schedule":"\*\/5 \* \* \* \* \*","next":"/);
    expect(out).toMatch(/\tinfo\tAdded\t\{"function":"report\.dev".*"timezone":"Europe\/London"/);
    expect(out).toMatch(/\twarn\tCannot schedule function\t\{"function":"broken\.dev"/);
    expect(out).toMatch(/\tinfo\tInvoking\t\{"function":"nodeinfo\.dev"/);
    expect(out).toMatch(/\tinfo\tResponse\t\{"function":"nodeinfo\.dev","status":200/);
    expect(out).not.toMatch(/staging"/);
    expect(out).toMatch(/received [1-9]\d* invocation\(s\) in dev and 0 in staging/);
  });
});

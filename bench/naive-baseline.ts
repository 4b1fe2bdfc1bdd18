/**
 * The naive baseline, run as its own process: one croner job per function calling fetch, i.e.
 *   new Cron(expr, () => fetch(url, { method: 'POST' }))
 * The only addition is the X-Cron-Scheduled-Time header, so the gateway can measure lateness the
 * same way for both: the nominal time is the slot the callback belongs to, the start of the
 * period it runs in (croner only calls back once Date.now() has reached the slot, see
 * _checkTrigger, so the callback is never in an earlier period unless it is more than a whole
 * period late). Failed calls are counted instead of crashing the process.
 */
import { Cron } from 'croner';

interface Config {
  readonly url: string;
  readonly functions: ReadonlyArray<{ path: string; expr: string }>;
  readonly periodMs: number;
}

let ok = 0;
let failed = 0;
const jobs: Cron[] = [];

process.on('message', (msg: { cmd: 'start'; config: Config } | { cmd: 'stats' } | { cmd: 'stop' }) => {
  if (msg.cmd === 'start') {
    const { url, functions, periodMs } = msg.config;
    for (const { path, expr } of functions) {
      const target = `${url}${path}`;
      jobs.push(
        new Cron(expr, () => {
          const nominal = Math.floor(Date.now() / periodMs) * periodMs;
          fetch(target, { method: 'POST', headers: { 'x-cron-scheduled-time': new Date(nominal).toISOString() } }).then(
            () => ok++,
            () => failed++,
          );
        }),
      );
    }
    process.send?.({ ready: true, jobs: jobs.length });
  } else if (msg.cmd === 'stats') {
    process.send?.({ ok, failed });
  } else {
    for (const job of jobs) job.stop();
    process.send?.({ ok, failed }, () => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

/** The doctor's human report: one line per check with ✓ ! ✗ -, then details, cause and fix. Pure. */
import { plural } from '../format.ts';
import type { Check, CheckStatus, DoctorReport } from './report.ts';

const MARK: Readonly<Record<CheckStatus, string>> = { pass: '✓', warn: '!', fail: '✗', skip: '-' };
const LABEL_WIDTH = 16;
const INDENT = '    ';

function renderCheck(c: Check): string {
  const label = c.name.replace(/-/g, ' ').padEnd(LABEL_WIDTH);
  const lines = [`${MARK[c.status]} ${label} ${c.summary}`];
  if (c.cause !== undefined) lines.push(`${INDENT}cause: ${c.cause}`);
  if (c.fix !== undefined) lines.push(`${INDENT}fix:   ${c.fix}`);
  for (const detail of c.details ?? []) lines.push(`${INDENT}${detail}`);
  return lines.join('\n');
}

function verdict(report: DoctorReport): string {
  const count = (s: CheckStatus): number => report.checks.filter((c) => c.status === s).length;
  const warnings = count('warn') === 0 ? '' : `, ${plural(count('warn'), 'warning')}`;
  if (count('fail') > 0) return `${plural(count('fail'), 'check')} failed${warnings}.`;
  return `All checks passed${warnings}.`;
}

export function renderText(report: DoctorReport): string {
  return `cron-connector doctor ${report.version}\n${report.checks.map(renderCheck).join('\n')}\n${verdict(report)}\n`;
}

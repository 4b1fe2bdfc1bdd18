/**
 * Step 4 (pure): from what discovery returned to the namespaces, functions and schedules checks,
 * selecting functions with the daemon's own selectFunction, so a schedule the daemon rejects is
 * rejected here with the same reason.
 */
import { GatewayError, describeError } from '../../errors.ts';
import type { GatewayFunction } from '../../gateway/types.ts';
import { functionId, selectFunction, type SelectionDefaults } from '../../schedule/annotations.ts';
import { plural, shortList } from '../format.ts';
import type { Discovery, NamespaceListing } from './discovery.ts';
import { diagnosisOf } from './diagnose.ts';
import { check, failed, skipped, type Check, type FunctionReport, type NamespaceReport } from './report.ts';

export interface DiscoveryContext {
  readonly gatewayUrl: string;
  readonly defaults: SelectionDefaults;
  readonly now: number;
}

export interface DiscoveryChecks {
  readonly checks: readonly [Check, Check, Check];
  readonly namespaces: readonly NamespaceReport[];
}

const MAX_DETAIL_LINES = 50;

export function functionReport(gf: GatewayFunction, defaults: SelectionDefaults, now: number): FunctionReport {
  const id = functionId(gf.name, gf.namespace);
  const selection = selectFunction(gf, defaults);
  if (selection.kind === 'ignored') return { function: id, name: gf.name, status: 'ignored' };
  if (selection.kind === 'rejected') return { function: id, name: gf.name, status: 'rejected', reason: selection.reason };
  const fn = selection.fn;
  const schedules = fn.schedules.map((s) => {
    const next = s.next(now);
    return { expression: s.expression, next: next === undefined ? null : new Date(next).toISOString() };
  });
  return { function: id, name: gf.name, status: 'scheduled', timezone: fn.timezone, schedules };
}

function namespaceReport(listing: NamespaceListing, ctx: DiscoveryContext): NamespaceReport {
  if (listing.ok) {
    const functions = [...listing.functions].sort((a, b) => a.name.localeCompare(b.name)).map((f) => functionReport(f, ctx.defaults, ctx.now));
    return { name: listing.namespace, status: 'listed', functions };
  }
  const status = listing.error instanceof GatewayError ? listing.error.status : undefined;
  const kind = status === 403 ? 'forbidden' : status === 404 ? 'not-found' : 'failed';
  return { name: listing.namespace, status: kind, error: describeError(listing.error), functions: [] };
}

function namespacesCheck(d: Extract<Discovery, { ok: true }>, topic: string): Check {
  if (d.namespaces.length > 0) return check('namespaces', 'pass', `${d.namespaces.length} visible: ${shortList(d.namespaces)}`);
  return check('namespaces', 'warn', 'no namespace visible', {
    cause: 'the IAM Policy grants Namespace:List on no namespace that exists (or there is no function namespace yet)',
    fix: `add "<namespace>:*" to the Policy's resource (helm: iam.resource) for each namespace whose functions carry topic=${topic}`,
  });
}

const STATUS_TEXT: Readonly<Record<NamespaceReport['status'], string>> = {
  listed: 'listed',
  forbidden: 'forbidden (403)',
  'not-found': 'not found (404)',
  failed: 'failed',
};

function namespaceLine(ns: NamespaceReport, topic: string): string {
  if (ns.status !== 'listed') return `${ns.name}: ${STATUS_TEXT[ns.status]}: ${ns.error ?? ''}`;
  const names = (pick: (f: FunctionReport) => boolean): string[] => ns.functions.filter(pick).map((f) => f.name);
  const selected = names((f) => f.status !== 'ignored');
  const ignored = names((f) => f.status === 'ignored');
  const parts = [plural(ns.functions.length, 'function')];
  if (selected.length > 0) parts.push(`selected: ${shortList(selected)}`);
  if (ignored.length > 0) parts.push(`without topic ${topic}: ${shortList(ignored, 8)}`);
  return `${ns.name}: ${parts.join('; ')}`;
}

function skippedNamespacesCheck(skippedNs: readonly NamespaceReport[], summary: string, details: string[]): Check {
  const forbidden = skippedNs.filter((n) => n.status === 'forbidden').map((n) => n.name);
  const gone = skippedNs.filter((n) => n.status === 'not-found').map((n) => n.name);
  const causes = [
    ...(forbidden.length === 0 ? [] : [`the IAM Policy grants Namespace:List but not Function:List on ${shortList(forbidden)}`]),
    ...(gone.length === 0 ? [] : [`${shortList(gone)} no longer exist${gone.length === 1 ? 's' : ''}`]),
  ];
  const fix =
    forbidden.length === 0
      ? 'nothing to do if the namespace was just deleted; the connector skips it'
      : `add ${shortList(forbidden.map((n) => `"${n}:*"`))} to the Policy's resource (helm: iam.resource) if the connector should schedule there; otherwise nothing to do, the connector skips them`;
  return check('functions', 'warn', summary, { details, code: 'E_GATEWAY_HTTP', cause: causes.join('; '), fix });
}

function functionsCheck(reports: readonly NamespaceReport[], listings: readonly NamespaceListing[], ctx: DiscoveryContext): Check {
  if (reports.length === 0) return skipped('functions', 'no namespace to list');
  const listed = reports.filter((r) => r.status === 'listed');
  const total = listed.reduce((n, r) => n + r.functions.length, 0);
  const selected = listed.reduce((n, r) => n + r.functions.filter((f) => f.status !== 'ignored').length, 0);
  const problems = reports.filter((r) => r.status !== 'listed');
  const tail = problems.length === 0 ? '' : `; ${problems.map((p) => `${p.name} ${STATUS_TEXT[p.status]}`).join(', ')}`;
  const summary = `listed ${listed.length} of ${plural(reports.length, 'namespace')}: ${plural(total, 'function')}, ${selected} selected (topic ${ctx.defaults.topic})${tail}`;
  const details = reports.map((r) => namespaceLine(r, ctx.defaults.topic));
  const failedOne = listings.find((l, i) => !l.ok && reports[i]?.status === 'failed');
  if (failedOne !== undefined && !failedOne.ok) {
    return failed('functions', summary, { ...diagnosisOf(failedOne.error, new URL(ctx.gatewayUrl)), details });
  }
  if (problems.length > 0) return skippedNamespacesCheck(problems, summary, details);
  return check('functions', 'pass', summary, { details });
}

function scheduledLine(f: FunctionReport): string {
  const expressions = (f.schedules ?? []).map((s) => JSON.stringify(s.expression)).join('; ');
  const next = (f.schedules ?? []).map((s) => s.next).filter((n): n is string => n !== null).sort()[0];
  return `${f.function}: ${expressions} (${f.timezone ?? 'UTC'}), next ${next ?? 'never'}`;
}

function scheduleDetails(rejected: readonly FunctionReport[], scheduled: readonly FunctionReport[]): string[] {
  const lines = [...rejected.map((f) => `${f.function}: cannot be scheduled: ${f.reason ?? ''}`), ...scheduled.map(scheduledLine)];
  if (lines.length <= MAX_DETAIL_LINES) return lines;
  return [...lines.slice(0, MAX_DETAIL_LINES), `… and ${lines.length - MAX_DETAIL_LINES} more (--json lists every function)`];
}

function schedulesCheck(reports: readonly NamespaceReport[], topic: string): Check {
  const functions = reports.flatMap((r) => r.functions);
  const scheduled = functions.filter((f) => f.status === 'scheduled');
  const rejected = functions.filter((f) => f.status === 'rejected');
  if (scheduled.length === 0 && rejected.length === 0) {
    return check('schedules', 'warn', `no function with topic ${topic}`, {
      cause: `no function in the visible namespaces has ${topic} in its topic annotation`,
      fix: `deploy with --annotation topic=${topic} --annotation schedule="*/5 * * * *" (faas-cli describe <function> shows its annotations)`,
    });
  }
  const count = scheduled.reduce((n, f) => n + (f.schedules?.length ?? 0), 0);
  const summary = `${plural(scheduled.length, 'function')} scheduled (${plural(count, 'schedule')})${rejected.length === 0 ? '' : `, ${rejected.length} cannot be scheduled`}`;
  const details = scheduleDetails(rejected, scheduled);
  if (rejected.length === 0) return check('schedules', 'pass', summary, { details });
  return check('schedules', 'warn', summary, {
    details,
    cause: 'the annotations of these functions cannot be scheduled: the connector reports and skips them',
    fix: "fix the expression or zone named in each reason; try a schedule with: cron-connector next '<schedule>' --tz <Zone>",
  });
}

export function discoveryChecks(d: Discovery, ctx: DiscoveryContext): DiscoveryChecks {
  if (!d.ok) {
    const diagnosis = diagnosisOf(d.error, new URL(ctx.gatewayUrl));
    return {
      checks: [failed('namespaces', describeError(d.error), diagnosis), skipped('functions', 'no namespace list'), skipped('schedules', 'no namespace list')],
      namespaces: [],
    };
  }
  const reports = d.listings.map((l) => namespaceReport(l, ctx));
  const schedules = reports.some((r) => r.status === 'listed') ? schedulesCheck(reports, ctx.defaults.topic) : skipped('schedules', 'no namespace could be listed');
  return { checks: [namespacesCheck(d, ctx.defaults.topic), functionsCheck(reports, d.listings, ctx), schedules], namespaces: reports };
}

/**
 * Bad input of every kind, against the real process: the corpus of annotations, names and list
 * bodies (test/support/corpus.ts), namespace lists of the wrong shape, redirects, bodies that
 * dribble or never end, and 10,000 functions in one namespace. Each group runs in one connector
 * process; none may crash it, leak memory, or be reported more than once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorProcess, LogLine } from '../support/connector.ts';
import {
  ANNOTATION_CASES,
  HEADER_UNSAFE_TOPICS,
  LIST_BODY_CASES,
  NAME_CASES,
  NEVER,
  annotationCaseName,
  caseTitle,
  invocationPathOf,
  listCaseNamespace,
  namesValue,
  reasonDetail,
} from '../support/corpus.ts';
import { cronFunction, startGateway, type GatewayEmulator, type RecordedRequest, type ScriptedResponse } from '../support/gateway.ts';
import { MiB, chartMemoryLimitBytes, processMemory } from '../support/process-memory.ts';
import { CHANGE_LINES_PER_PASS } from '../../src/reconcile.ts';
import { callsOf, is, world, type World } from '../helpers/fixture.ts';

/** A log field as text ('' or `fallback` when absent or not a string). */
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);

const CANNOT = 'Cannot schedule function';
const UNREADABLE = 'Namespace unreadable, keeping its schedules';
const DISCOVERY_FAILED = 'Discovery failed, keeping current schedules';
/** The connector's cap on list bodies (src/gateway/client.ts). */
const LIST_CAP = 64 * MiB;
/** Longest log line a rejection may produce: reasons quote what they reject, never all of it. */
const MAX_LINE = 2048;

const others: GatewayEmulator[] = [];
afterEach(async () => {
  for (const g of others.splice(0)) await g.close();
});

/** A second server that a redirect can point at: it must never hear from the connector. */
async function elsewhere(): Promise<GatewayEmulator> {
  const g = await startGateway({ auth: 'none' });
  others.push(g);
  return g;
}

const passes = (c: ConnectorProcess): number => c.countLogs(is('Discovery complete'));

async function morePasses(w: World, c: ConnectorProcess, n: number, timeoutMs = 10_000): Promise<void> {
  const target = passes(c) + n;
  await w.gateway.waitFor(() => passes(c) >= target, timeoutMs, `${n} more discovery passes`);
}

/** Stops the connector and checks it was still running and shut down cleanly, without a crash sign. */
async function expectStillUpThenStop(c: ConnectorProcess): Promise<void> {
  expect(await c.stop()).toEqual({ code: 0, signal: null });
  expect(c.countLogs(is('Stopped')), 'it shut down on SIGTERM, not before').toBe(1);
  expect(c.logs.filter((l) => l.level === 'fatal' || l.level === 'error' || l.msg === 'Unhandled rejection' || l.msg === 'Scheduler callback failed')).toEqual([]);
  expect(c.stderr).toBe('');
}

/** Log lines written before shutdown began (a pass cut short by SIGTERM reports its own abort). */
function beforeShutdown(c: ConnectorProcess): LogLine[] {
  const end = c.logs.findIndex(is('Shutting down'));
  return end < 0 ? c.logs : c.logs.slice(0, end);
}

function listRequests(gateway: GatewayEmulator, namespace: string): RecordedRequest[] {
  return gateway.requests.filter((r) => r.path === '/system/functions' && new URLSearchParams(r.query).get('namespace') === namespace);
}

const namespaceRequests = (gateway: GatewayEmulator): RecordedRequest[] => gateway.requests.filter((r) => r.path === '/system/namespaces');

describe('hardening: the annotation corpus', () => {
  it('should warn exactly once about each unschedulable function, schedule the rest, and stay up', async () => {
    const w = await world();
    w.gateway.setFunctions(
      'corpus',
      ANNOTATION_CASES.map((c, i) => ({ name: annotationCaseName(i), image: 'ghcr.io/openfaas/nodeinfo:latest', annotations: c.annotations })),
    );
    const connector = await w.start({ rebuild_interval: '1s' });
    await morePasses(w, connector, 5, 15_000);
    await expectStillUpThenStop(connector);

    const mismatches: string[] = [];
    ANNOTATION_CASES.forEach((c, i) => {
      const id = `${annotationCaseName(i)}.corpus`;
      const lines = connector.logs.filter((l) => l.function === id);
      const warnings = lines.filter(is(CANNOT));
      const added = lines.filter(is('Added'));
      const problem = (what: string): void => void mismatches.push(`${caseTitle(c)} (${id}): ${what}`);
      if (c.expect.kind === 'ignored') {
        if (lines.length > 0) problem(`expected no line, got ${lines.map((l) => String(l.msg)).join(', ')}`);
        return;
      }
      if (c.expect.kind === 'added') {
        if (warnings.length > 0) problem(`warned: ${String(warnings[0]?.reason)}`);
        const schedules = added.map((l) => l.schedule);
        if (JSON.stringify(schedules) !== JSON.stringify(c.expect.schedules)) problem(`Added ${JSON.stringify(schedules)}`);
        for (const l of added) {
          if ((l.timezone ?? 'UTC') !== (c.expect.timezone ?? 'UTC')) problem(`timezone ${String(l.timezone)}`);
          if ((l.async ?? false) !== (c.expect.async ?? false)) problem(`async ${String(l.async)}`);
        }
        return;
      }
      if (added.length > 0) problem(`Added ${added.length} schedule(s)`);
      if (warnings.length !== 1) problem(`warned ${warnings.length} times over ${passes(connector)} passes`);
      const reason = str(warnings[0]?.reason);
      if (warnings.length > 0 && !c.expect.reason.test(reason)) problem(`reason "${reason}" does not match ${String(c.expect.reason)}`);
      if (c.expect.names !== undefined && !namesValue(reasonDetail(reason), c.expect.names)) problem(`reason "${reasonDetail(reason)}" does not name ${c.expect.names}, the value written`);
    });
    expect(mismatches).toEqual([]);
    const longest = Math.max(...connector.lines.map((l) => l.length));
    expect(longest, 'a huge annotation must not be echoed into the logs').toBeLessThanOrEqual(MAX_LINE);
  });

  it('should warn again about a rejected function only when its annotations change', async () => {
    const w = await world();
    const deploy = (typo: string, zone: string): void =>
      w.gateway.setFunctions('dev', [
        cronFunction('typo', typo),
        cronFunction('zone', NEVER, { 'com.openfaas.cron.timezone': zone }),
        cronFunction('steady', ';;'),
      ]);
    deploy('*/5 * * *', 'Europe/Atlantis');
    const connector = await w.start({ rebuild_interval: '1s' });
    const warnings = (fn: string): number => connector.countLogs(is(CANNOT, { function: `${fn}.dev` }));
    await connector.waitForLog(is(CANNOT, { function: 'typo.dev' }));
    await morePasses(w, connector, 3);

    deploy('61 * * * *', 'Mars/Olympus_Mons');
    await w.gateway.waitFor(() => warnings('typo') === 2 && warnings('zone') === 2, 5000, 'a warning about each change');
    await morePasses(w, connector, 3);

    deploy('*/5 * * *', 'Asia/Tokyo');
    await connector.waitForLog(is('Added', { function: 'zone.dev' }));
    await w.gateway.waitFor(() => warnings('typo') === 3, 5000, 'a warning about the change back');
    await morePasses(w, connector, 3);
    await expectStillUpThenStop(connector);

    expect({ typo: warnings('typo'), zone: warnings('zone'), steady: warnings('steady') }).toEqual({ typo: 3, zone: 2, steady: 1 });
    expect(connector.countLogs(is('Added', { function: 'zone.dev' }))).toBe(1);
  });
});

describe('hardening: names', () => {
  it('should invoke functions with odd names at their encoded path, under their own name', async () => {
    const w = await world();
    const namespaces = [...new Set(NAME_CASES.map((c) => c.namespace))];
    for (const ns of namespaces) {
      w.gateway.setFunctions(
        ns,
        NAME_CASES.filter((c) => c.namespace === ns).map((c) => cronFunction(c.name, c.invocable ? '* * * * * *' : NEVER)),
      );
    }
    const connector = await w.start();
    const invocable = NAME_CASES.filter((c) => c.invocable);
    await w.gateway.waitFor(() => invocable.every((c) => callsOf(w.gateway, c.name, c.namespace).length >= 2), 8000, 'two calls of every function');
    await expectStillUpThenStop(connector);

    const mismatches: string[] = [];
    for (const c of NAME_CASES) {
      const added = connector.countLogs(is('Added', { function: `${c.name}.${c.namespace}` }));
      if (added !== 1) mismatches.push(`${c.label}: Added ${added} times`);
      if (listRequests(w.gateway, c.namespace).length === 0) mismatches.push(`${c.label}: namespace ${JSON.stringify(c.namespace)} never listed`);
      const paths = new Set(callsOf(w.gateway, c.name, c.namespace).map((i) => i.path));
      if (c.invocable && (paths.size !== 1 || !paths.has(invocationPathOf(c.name, c.namespace)))) {
        mismatches.push(`${c.label}: invoked at ${JSON.stringify([...paths])}`);
      }
    }
    expect(mismatches).toEqual([]);
    const known = new Set(invocable.map((c) => `${c.name}\u0000${c.namespace}`));
    expect(w.gateway.invocations.filter((i) => !known.has(`${i.name}\u0000${i.namespace}`))).toEqual([]);
    expect(w.gateway.requests.filter((r) => r.status === 404 || r.status === 400)).toEqual([]);
    expect(w.gateway.requests.filter((r) => r.path.startsWith('/system/') && r.headers['authorization'] === undefined)).toEqual([]);
    expect(connector.countLogs(is('Invocation failed'))).toBe(0);
  });

  it('should invoke a selected function whose topic annotation is not a valid header value', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [
      cronFunction('plain', '* * * * * *'),
      ...HEADER_UNSAFE_TOPICS.map((t) => ({ ...cronFunction(t.name, '* * * * * *'), annotations: { topic: t.topic, schedule: '* * * * * *' } })),
    ]);
    const connector = await w.start({ retries: '0' });
    await w.gateway.waitFor(() => callsOf(w.gateway, 'plain', 'dev').length >= 3, 8000, 'three calls of the plain function');
    await expectStillUpThenStop(connector);

    const outcome = Object.fromEntries(
      HEADER_UNSAFE_TOPICS.map((t) => {
        const failure = connector.logs.find(is('Invocation failed', { function: `${t.name}.dev` }));
        const calls = callsOf(w.gateway, t.name, 'dev').length;
        return [t.label, calls > 0 ? 'invoked' : `not invoked: ${str(failure?.error, 'no attempt logged')}`];
      }),
    );
    expect(outcome).toEqual(Object.fromEntries(HEADER_UNSAFE_TOPICS.map((t) => [t.label, 'invoked'])));
  });
});

describe('hardening: function lists of the wrong shape', () => {
  it('should refuse or tolerate each malformed list, reporting each refused answer once per pass', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', NEVER)]);
    const scripts = LIST_BODY_CASES.map((c, i) => {
      const response: ScriptedResponse = { kind: 'body', body: c.body, ...(c.status === undefined ? {} : { status: c.status }), ...(c.contentType === undefined ? {} : { contentType: c.contentType }) };
      w.gateway.setFunctionListResponse(listCaseNamespace(i), response);
      return response;
    });
    const connector = await w.start({ rebuild_interval: '1s' });
    await morePasses(w, connector, 4, 15_000);
    LIST_BODY_CASES.forEach((_c, i) => w.gateway.setFunctionListResponse(listCaseNamespace(i), undefined));
    await morePasses(w, connector, 2);
    await expectStillUpThenStop(connector);

    const logs = beforeShutdown(connector);
    const mismatches: string[] = [];
    LIST_BODY_CASES.forEach((c, i) => {
      const ns = listCaseNamespace(i);
      const problem = (what: string): void => void mismatches.push(`${c.label} (${ns}): ${what}`);
      const answered = listRequests(w.gateway, ns).filter((r) => r.scriptedResponse === scripts[i]).length;
      const unreadable = logs.filter(is(UNREADABLE, { namespace: ns }));
      const mine = logs.filter((l) => typeof l.function === 'string' && l.function.endsWith(`.${ns}`));
      if (answered < 4) problem(`only ${answered} scripted answers`);
      if (c.expect.kind === 'unreadable') {
        if (unreadable.length !== answered) problem(`reported ${unreadable.length} times for ${answered} answers`);
        const error = str(unreadable[0]?.error);
        if (!c.expect.error.test(error)) problem(`error "${error}" does not match ${String(c.expect.error)}`);
        if (mine.some(is('Added'))) problem('scheduled something');
        return;
      }
      if (unreadable.length > 0) problem(`reported unreadable: ${String(unreadable[0]?.error)}`);
      const added = Object.entries(c.expect.added ?? {}).flatMap(([name, schedules]) => schedules.map((s) => `${name}.${ns} ${s}`));
      const seen = mine.filter(is('Added')).map((l) => `${String(l.function)} ${String(l.schedule)}`);
      if (JSON.stringify(seen.sort()) !== JSON.stringify(added.sort())) problem(`Added ${JSON.stringify(seen)}, expected ${JSON.stringify(added)}`);
      const rejected = Object.entries(c.expect.rejected ?? {});
      const warned = mine.filter(is(CANNOT));
      if (warned.length !== rejected.length) problem(`${warned.length} warnings, expected ${rejected.length}`);
      for (const [name, reason] of rejected) {
        const line = warned.find((l) => l.function === `${name}.${ns}`);
        if (line === undefined || !reason.test(String(line.reason))) problem(`no warning about ${name} matching ${String(reason)}`);
      }
    });
    expect(mismatches).toEqual([]);
    expect(connector.lines.filter((l) => l.includes('kube-system'))).toEqual([]);
    expect(connector.countLogs(is('Added', { function: 'steady.dev' }))).toBe(1);
    expect(connector.countLogs(is('Removed', { function: 'steady.dev' }))).toBe(0);
  });
});

describe('hardening: namespace lists of the wrong shape', () => {
  const HTML = '<html><head><title>Sign in</title></head><body>Please sign in</body></html>';
  const failing: Array<{ label: string; response: ScriptedResponse; code: string; error: RegExp }> = [
    { label: 'an object', response: { kind: 'body', body: '{"namespaces":["dev"]}' }, code: 'E_GATEWAY_RESPONSE', error: /answered object where a JSON array was expected/ },
    { label: 'a number', response: { kind: 'body', body: '7' }, code: 'E_GATEWAY_RESPONSE', error: /answered number where a JSON array was expected/ },
    { label: 'an HTML page with status 200', response: { kind: 'body', body: HTML, contentType: 'text/html' }, code: 'E_GATEWAY_RESPONSE', error: /did not answer JSON: <html>/ },
    { label: 'an HTML page with status 502', response: { kind: 'body', body: HTML, status: 502, contentType: 'text/html' }, code: 'E_GATEWAY_HTTP', error: /answered 502: <html>/ },
    { label: 'truncated JSON', response: { kind: 'body', body: '["dev", "pro' }, code: 'E_GATEWAY_RESPONSE', error: /did not answer JSON/ },
  ];

  it('should keep its schedules through each malformed namespace list, reporting each failed pass once', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', '* * * * * *')]);
    const connector = await w.start({ rebuild_interval: '1s' });
    await connector.waitForLog(is('Added', { function: 'steady.dev' }));
    const calls = callsOf(w.gateway, 'steady', 'dev').length;
    // failed passes back off (1 s, then 2 s, ...): a good list between two bad ones resets that
    for (const f of failing) {
      w.gateway.setNamespaceListResponse(f.response);
      const seen = connector.countLogs(is(DISCOVERY_FAILED));
      await w.gateway.waitFor(() => connector.countLogs(is(DISCOVERY_FAILED)) >= seen + 1, 5000, `a failed pass with ${f.label}`);
      w.gateway.setNamespaceListResponse(undefined);
      await morePasses(w, connector, 1);
    }
    const tolerated: ScriptedResponse = { kind: 'body', body: '[1, null, "", {"name":"x"}, "dev", "dev"]' };
    await w.gateway.waitFor(() => callsOf(w.gateway, 'steady', 'dev').length >= calls + 2, 5000, 'firing to go on through the failures');
    w.gateway.setNamespaceListResponse(tolerated);
    await w.gateway.waitFor(() => namespaceRequests(w.gateway).filter((r) => r.scriptedResponse === tolerated).length >= 2, 5000, 'two tolerated lists');
    w.gateway.setNamespaceListResponse(undefined);
    await morePasses(w, connector, 2);
    await expectStillUpThenStop(connector);

    // One pass, one /system/namespaces request, one outcome line: zip them in order.
    const outcomes = beforeShutdown(connector).filter((l) => l.msg === DISCOVERY_FAILED || l.msg === 'Discovery complete');
    const requests = namespaceRequests(w.gateway).slice(0, outcomes.length);
    expect(namespaceRequests(w.gateway).length - outcomes.length).toBeLessThanOrEqual(1);
    const mismatches: string[] = [];
    requests.forEach((r, i) => {
      const line = outcomes[i] ?? {};
      const f = failing.find((x) => x.response === r.scriptedResponse);
      if (f === undefined) {
        if (line.msg !== 'Discovery complete' || line.namespaces !== 1) mismatches.push(`pass ${i} (${r.scriptedResponse === tolerated ? 'tolerated list' : 'real list'}): ${JSON.stringify(line)}`);
      } else if (line.msg !== DISCOVERY_FAILED || line.code !== f.code || !f.error.test(String(line.error)) || typeof line.hint !== 'string') {
        mismatches.push(`pass ${i} (${f.label}): ${JSON.stringify(line)}`);
      }
    });
    expect(mismatches).toEqual([]);
    expect(connector.countLogs(is('Removed'))).toBe(0);
  });
});

describe('hardening: redirects', () => {
  it('should not follow a redirected listing, least of all to another origin with its token', async () => {
    const other = await elsewhere();
    other.setFunctions('dev', [cronFunction('lure', '* * * * * *')]);
    other.setFunctions('moved', [cronFunction('lure', '* * * * * *')]);
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', NEVER)]);
    const statuses = [301, 302, 303, 307, 308] as const;
    const moved = [...statuses.map((s) => `moved-${s}`), 'moved-here'];
    for (const status of statuses) {
      w.gateway.setFunctionListResponse(`moved-${status}`, { kind: 'redirect', status, location: `${other.url}/system/functions?namespace=moved` });
    }
    w.gateway.setFunctionListResponse('moved-here', { kind: 'redirect', status: 307, location: `${w.gateway.url}/system/functions?namespace=dev` });
    const connector = await w.start({ rebuild_interval: '1s' });
    await morePasses(w, connector, 3);
    w.gateway.setNamespaceListResponse({ kind: 'redirect', status: 302, location: `${other.url}/system/namespaces` });
    const failed = await connector.waitForLog(is(DISCOVERY_FAILED));
    w.gateway.setNamespaceListResponse(undefined);
    for (const ns of moved) w.gateway.setFunctionListResponse(ns, undefined);
    await morePasses(w, connector, 2);
    await expectStillUpThenStop(connector);

    expect(other.requests).toEqual([]);
    expect(failed).toMatchObject({ code: 'E_GATEWAY_HTTP' });
    expect(String(failed.error)).toMatch(/answered 302/);
    const logs = beforeShutdown(connector);
    for (const ns of moved) {
      const reports = logs.filter(is(UNREADABLE, { namespace: ns }));
      expect(reports.length, ns).toBe(listRequests(w.gateway, ns).filter((r) => r.scriptedResponse !== undefined).length);
      expect(String(reports[0]?.error), ns).toMatch(/answered 30\d/);
    }
    expect(connector.logs.filter((l) => str(l.function).startsWith('lure.'))).toEqual([]);
  });

  it('should not send the projected token where a redirected token exchange points', async () => {
    const other = await elsewhere();
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', NEVER)]);
    w.gateway.setFault('token', { kind: 'respond', response: { kind: 'redirect', status: 307, location: `${other.url}/oauth/token` } });
    const connector = await w.start();
    const failure = await connector.waitForLog(is('Token exchange failed'));
    expect(failure).toMatchObject({ status: 307, subject: w.iam.subject });
    w.gateway.clearFaults();
    await connector.waitForLog(is('Added', { function: 'steady.dev' }), 10_000);
    await expectStillUpThenStopAllowingTokenErrors(connector);
    expect(other.requests).toEqual([]);
  });
});

/** Like expectStillUpThenStop, but the test provoked `Token exchange failed` (an error-level line) on purpose. */
async function expectStillUpThenStopAllowingTokenErrors(c: ConnectorProcess): Promise<void> {
  expect(await c.stop()).toEqual({ code: 0, signal: null });
  expect(c.logs.filter((l) => l.level === 'fatal' || (l.level === 'error' && l.msg !== 'Token exchange failed'))).toEqual([]);
  expect(c.stderr).toBe('');
}

describe('hardening: slow and huge answers', () => {
  it('should give up a list that dribbles in forever at rebuild_timeout, and keep firing', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', '* * * * * *')]);
    const drip: ScriptedResponse = { kind: 'dribble', chunk: ' ', intervalMs: 50 };
    w.gateway.setFunctionListResponse('drip', drip);
    const connector = await w.start({ rebuild_interval: '1s', rebuild_timeout: '1s' });
    const first = await connector.waitForLog(is(UNREADABLE, { namespace: 'drip' }), 5000);
    expect(first.error).toMatch(/^GET \/system\/functions timed out after (1s|\d{1,3}ms)$/);
    const calls = callsOf(w.gateway, 'steady', 'dev').length;
    await w.gateway.waitFor(() => connector.countLogs(is(UNREADABLE, { namespace: 'drip' })) >= 3, 10_000, 'three passes cut at rebuild_timeout');
    await w.gateway.waitFor(() => callsOf(w.gateway, 'steady', 'dev').length >= calls + 2, 5000, 'firing to go on meanwhile');

    w.gateway.setNamespaceListResponse(drip);
    const failed = await connector.waitForLog(is(DISCOVERY_FAILED), 5000);
    expect(failed).toMatchObject({ code: 'E_GATEWAY_TIMEOUT' });
    w.gateway.setNamespaceListResponse(undefined);
    w.gateway.setFunctionListResponse('drip', undefined);
    await morePasses(w, connector, 2);
    await expectStillUpThenStop(connector);

    const dripped = listRequests(w.gateway, 'drip').filter((r) => r.scriptedResponse === drip);
    expect(dripped.every((r) => (r.responseBytes ?? 0) > 2), 'bytes kept arriving: a dribble, not a hang').toBe(true);
    expect(dripped.map((r) => r.scriptedEnd)).toEqual(dripped.map(() => 'client gone'));
    expect(beforeShutdown(connector).filter(is(UNREADABLE, { namespace: 'drip' })).length).toBe(dripped.length);
    expect(connector.countLogs(is('Removed'))).toBe(0);
  });

  it('should refuse a function list over 64 MiB pass after pass, with a clear error, without reading on or leaking', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', NEVER)]);
    const flood: ScriptedResponse = { kind: 'endless' };
    w.gateway.setFunctionListResponse('flood', flood);
    const connector = await w.start({ rebuild_interval: '1s', rebuild_timeout: '20s' });
    const pid = connector.pid ?? 0;
    const refusals = (): number => connector.countLogs(is(UNREADABLE, { namespace: 'flood' }));
    await w.gateway.waitFor(() => refusals() >= 3, 20_000, 'three refused floods');
    const warm = processMemory(pid);
    await w.gateway.waitFor(() => refusals() >= 7, 30_000, 'four more refused floods');
    const after = processMemory(pid);
    w.gateway.setFunctionListResponse('flood', undefined);
    await morePasses(w, connector, 2);
    await expectStillUpThenStop(connector);

    const first = connector.logs.find(is(UNREADABLE, { namespace: 'flood' }));
    expect(String(first?.error)).toBe(`the answer from /system/functions is larger than ${LIST_CAP} bytes`);
    const flooded = listRequests(w.gateway, 'flood').filter((r) => r.scriptedResponse === flood);
    expect(beforeShutdown(connector).filter(is(UNREADABLE, { namespace: 'flood' })).length).toBe(flooded.length);
    const sent = flooded.map((r) => r.responseBytes ?? 0);
    expect(Math.min(...sent), 'each flood was read up to the cap').toBeGreaterThan(LIST_CAP);
    // socket buffers on a loaded machine let tens of MiB more through before the hang-up lands;
    // the point is that the connector stops far short of the 1 GiB on offer
    expect(Math.max(...sent), 'the connector hung up soon after the cap (the gateway offered 1 GiB)').toBeLessThan(LIST_CAP + 128 * MiB);
    expect(flooded.map((r) => r.scriptedEnd)).toEqual(flooded.map(() => 'client gone'));
    const mib = (n: number): string => `${Math.round(n / MiB)} MiB`;
    expect(after.peakRssBytes - warm.peakRssBytes, `peak RSS ${mib(warm.peakRssBytes)} after 3 floods, ${mib(after.peakRssBytes)} after 7`).toBeLessThan(2 * LIST_CAP);
    expect(after.peakRssBytes, `peak RSS ${mib(after.peakRssBytes)}`).toBeLessThan(8 * LIST_CAP);
    expect(connector.countLogs(is('Added', { function: 'steady.dev' }))).toBe(1);
  });
});

describe('hardening: scale', () => {
  const COUNT = 10_000;
  const bulk = (w: World): void => w.gateway.setFunctions('bulk', Array.from({ length: COUNT }, (_, i) => cronFunction(`fn-${i}`, NEVER)));
  const start = (w: World, env: Record<string, string> = {}): Promise<ConnectorProcess> =>
    w.start({ debug: 'false', rebuild_interval: '1s', rebuild_timeout: '10s', ...env });

  it('should schedule 10,000 functions of one namespace once each, and keep them', async () => {
    const w = await world();
    bulk(w);
    const connector = await start(w);
    const complete = await connector.waitForLog(is('Discovery complete'), 20_000);
    expect(complete).toMatchObject({ namespaces: 1, functions: COUNT, schedules: COUNT, added: COUNT, removed: 0, rejected: 0 });
    const listed = listRequests(w.gateway, 'bulk').length;
    await w.gateway.waitFor(() => listRequests(w.gateway, 'bulk').length >= listed + 4, 15_000, 'four more passes');
    await expectStillUpThenStop(connector);

    // 100 lines name schedules one by one, one line counts the rest (GET /schedules lists them all)
    const added = connector.logs.filter(is('Added'));
    expect(added.length).toBe(CHANGE_LINES_PER_PASS);
    expect(new Set(added.map((l) => l.function)).size).toBe(CHANGE_LINES_PER_PASS);
    expect(connector.logs.filter(is('Added more schedules'))).toEqual([
      expect.objectContaining({ level: 'info', more: COUNT - CHANGE_LINES_PER_PASS, added: COUNT }),
    ]);
    expect(beforeShutdown(connector).filter((l) => l.level === 'warn' || l.msg === 'Removed')).toEqual([]);
  });

  it('should name the first 100 removals of a pass and count the rest in one line', async () => {
    const w = await world();
    w.gateway.setFunctions('bulk', Array.from({ length: 150 }, (_, i) => cronFunction(`fn-${i}`, NEVER)));
    const connector = await start(w);
    await connector.waitForLog(is('Discovery complete'), 20_000);
    w.gateway.setFunctions('bulk', []);
    const more = await connector.waitForLog(is('Removed more schedules'), 10_000);
    expect(more).toMatchObject({ level: 'info', more: 150 - CHANGE_LINES_PER_PASS, removed: 150 });
    expect(connector.logs.filter(is('Removed'))).toHaveLength(CHANGE_LINES_PER_PASS);
    expect(connector.logs.filter(is('Removed'))[0]).toMatchObject({ reason: 'function deleted or no longer annotated' });
    await expectStillUpThenStop(connector);
  });

  it("should stay under the chart's memory limit with 10,000 functions", async () => {
    const w = await world();
    bulk(w);
    const limit = chartMemoryLimitBytes();
    // In a Pod, V8 sizes its heap from the container's limit; here, tell it (half the limit).
    const connector = await start(w, { NODE_OPTIONS: `--max-old-space-size=${Math.floor(limit / 2 / MiB)}` });
    await connector.waitForLog(is('Discovery complete'), 20_000);
    const listed = listRequests(w.gateway, 'bulk').length;
    await w.gateway.waitFor(() => listRequests(w.gateway, 'bulk').length >= listed + 2, 15_000, 'two more passes');
    const memory = processMemory(connector.pid ?? 0);
    await expectStillUpThenStop(connector);

    expect(memory.peakRssBytes, `peak RSS ${Math.round(memory.peakRssBytes / MiB)} MiB, the chart's limit ${Math.round(limit / MiB)} MiB`).toBeLessThan(limit);
  });
});

describe('hardening: shutdown', () => {
  it('should not report a discovery pass cut short by SIGTERM as unreadable namespaces', async () => {
    const w = await world();
    w.gateway.setFunctions('dev', [cronFunction('steady', NEVER)]);
    w.gateway.setFunctions('prod', [cronFunction('steady', NEVER)]);
    const connector = await w.start({ rebuild_interval: '1s', rebuild_timeout: '20s' });
    await connector.waitForLog(is('Added', { function: 'steady.prod' }));
    w.gateway.setFault('functions', { kind: 'hang' });
    const hanging = w.gateway.requests.length;
    await w.gateway.waitFor(() => w.gateway.requests.slice(hanging).filter((r) => r.path === '/system/functions').length >= 2, 5000, 'a pass waiting on both namespaces');
    await expectStillUpThenStop(connector);

    const shutdown = connector.logs.slice(connector.logs.findIndex(is('Shutting down')));
    expect(shutdown.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(connector.countLogs(is('Stopped'))).toBe(1);
  });
});

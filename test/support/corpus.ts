/**
 * The bad-input corpus: what functions, names and gateway answers can look like in the wild, and
 * what the connector must make of each. Shared by the unit test (pure parsing and selection) and
 * the hardening integration test (the real process against the emulator), so both hold the same
 * table to the same expectations.
 */

/** A schedule that never fires during a test run. */
export const NEVER = '0 0 1 1 *';
const TOPIC = 'cron-function';

export type AnnotationCategory =
  | 'empty'
  | 'separators'
  | 'field count'
  | 'out of range'
  | 'nickname'
  | 'unicode'
  | 'control characters'
  | 'huge'
  | 'time zone'
  | 'options'
  | 'topic';

export type AnnotationExpectation =
  /** Exactly one `Cannot schedule function` whose reason matches, and no `Added`. */
  | {
      kind: 'rejected';
      reason: RegExp;
      /** The value as the user wrote it, which the reason must name past the quoted expression. */
      names?: string;
    }
  /** One `Added` per schedule (in this order), no warning. */
  | { kind: 'added'; schedules: string[]; timezone?: string; async?: boolean }
  /** Not selected: no line names the function at all. */
  | { kind: 'ignored' };

export interface AnnotationCase {
  label: string;
  category: AnnotationCategory;
  annotations: Record<string, string>;
  expect: AnnotationExpectation;
}

const cron = (schedule: string, extra: Record<string, string> = {}): Record<string, string> => ({ topic: TOPIC, schedule, ...extra });
const rejected = (reason: RegExp, names?: string): AnnotationExpectation => ({ kind: 'rejected', reason, ...(names === undefined ? {} : { names }) });
const added = (schedules: string[] = [NEVER], extra: { timezone?: string; async?: boolean } = {}): AnnotationExpectation => ({ kind: 'added', schedules, ...extra });
const ignored: AnnotationExpectation = { kind: 'ignored' };

const NO_SCHEDULE = /no "schedule" annotation/;
const FIELDS = (n: number): RegExp => new RegExp(`expected 5 fields .* found ${n}$`);
const UNKNOWN_ZONE = /^unknown time zone ".*" in com\.openfaas\.cron\.timezone: use an IANA name/;
const ILLEGAL = /illegal characters|illegal/;
const forty = Array.from({ length: 40 }, (_, i) => `${i} 0 1 1 *`).join('; ');

export const ANNOTATION_CASES: readonly AnnotationCase[] = [
  // empty
  { label: 'an empty schedule', category: 'empty', annotations: cron(''), expect: rejected(NO_SCHEDULE) },
  { label: 'a blank schedule', category: 'empty', annotations: cron('   \t  '), expect: rejected(NO_SCHEDULE) },
  { label: 'no schedule annotation', category: 'empty', annotations: { topic: TOPIC }, expect: rejected(NO_SCHEDULE) },
  { label: 'an empty topic', category: 'empty', annotations: { topic: '', schedule: NEVER }, expect: ignored },
  { label: 'an empty time zone (the default applies)', category: 'empty', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': '' }), expect: added() },
  { label: 'empty async, retries, concurrency and jitter (defaults apply)', category: 'empty', annotations: cron(NEVER, { 'com.openfaas.cron.async': '', 'com.openfaas.cron.retries': '', 'com.openfaas.cron.concurrency': '', 'com.openfaas.cron.jitter': '' }), expect: added() },
  // separators
  { label: 'only separators ";;"', category: 'separators', annotations: cron(';;'), expect: rejected(/holds no expression/) },
  { label: 'separators and blanks " ; ;\\t; "', category: 'separators', annotations: cron(' ; ;\t; '), expect: rejected(/holds no expression/) },
  { label: 'a trailing separator', category: 'separators', annotations: cron(`${NEVER};`), expect: added() },
  { label: 'an empty entry between two expressions', category: 'separators', annotations: cron(`${NEVER};;0 0 2 2 *`), expect: added([NEVER, '0 0 2 2 *']) },
  { label: 'the same expression twice', category: 'separators', annotations: cron(`${NEVER}; ${NEVER}`), expect: added() },
  { label: 'one good and one bad expression (never half-scheduled)', category: 'separators', annotations: cron(`${NEVER}; nonsense`), expect: rejected(/^invalid schedule "nonsense": expected 5 fields/) },
  { label: 'expressions separated by a comma', category: 'separators', annotations: cron(`${NEVER},0 0 2 2 *`), expect: rejected(FIELDS(9)) },
  { label: 'expressions separated by a newline', category: 'separators', annotations: cron(`${NEVER}\n0 0 2 2 *`), expect: rejected(FIELDS(10)) },
  // field count
  { label: 'four fields', category: 'field count', annotations: cron('*/5 * * *'), expect: rejected(FIELDS(4)) },
  { label: 'one field', category: 'field count', annotations: cron('*'), expect: rejected(FIELDS(1)) },
  { label: 'seven fields', category: 'field count', annotations: cron('* * * * * * *'), expect: rejected(FIELDS(7)) },
  { label: 'twelve fields', category: 'field count', annotations: cron('0 0 1 1 * 0 0 1 1 * 0 0'), expect: rejected(FIELDS(12)) },
  { label: 'a trailing year field', category: 'field count', annotations: cron('0 0 1 1 * 2030'), expect: rejected(/2030/) },
  // out of range
  { label: 'minute 60', category: 'out of range', annotations: cron('60 * * * *'), expect: rejected(/minute/, '60') },
  { label: 'hour 24', category: 'out of range', annotations: cron('0 24 * * *'), expect: rejected(/hour/, '24') },
  { label: 'day of month 0', category: 'out of range', annotations: cron('0 0 0 * *'), expect: rejected(/day/, '0') },
  { label: 'day of month 32', category: 'out of range', annotations: cron('0 0 32 * *'), expect: rejected(/day/, '32') },
  { label: 'month 13', category: 'out of range', annotations: cron('0 0 1 13 *'), expect: rejected(/month/, '13') },
  { label: 'weekday 8', category: 'out of range', annotations: cron('0 0 * * 8'), expect: rejected(/dayOfWeek|weekday/, '8') },
  { label: 'second 60', category: 'out of range', annotations: cron('60 * * * * *'), expect: rejected(/second/, '60') },
  { label: 'a negative minute', category: 'out of range', annotations: cron('-1 * * * *'), expect: rejected(/illegal/) },
  { label: 'an inverted range', category: 'out of range', annotations: cron('30-10 * * * *'), expect: rejected(/30-10/) },
  { label: 'a step of zero', category: 'out of range', annotations: cron('*/0 * * * *'), expect: rejected(/stepping: 0|step/) },
  { label: 'February 30th (never fires)', category: 'out of range', annotations: cron('0 0 30 2 *'), expect: rejected(/never fires/) },
  { label: 'April 31st with seconds (never fires)', category: 'out of range', annotations: cron('0 0 0 31 4 *'), expect: rejected(/never fires/) },
  { label: 'a signed number (robfig/cron reads +5 as 5)', category: 'out of range', annotations: cron('+5 0 1 1 *'), expect: added(['+5 0 1 1 *']) },
  { label: 'a hexadecimal number', category: 'out of range', annotations: cron('0x1 * * * *'), expect: rejected(ILLEGAL) },
  { label: 'an empty list entry (robfig/cron drops it)', category: 'out of range', annotations: cron('0,,5 0 1 1 *'), expect: added(['0,,5 0 1 1 *']) },
  { label: 'a field of empty list entries (never fires)', category: 'out of range', annotations: cron('0 0 1 , *'), expect: rejected(/month field "," selects no value/) },
  { label: 'an unknown month name', category: 'out of range', annotations: cron('0 0 1 FOO *'), expect: rejected(ILLEGAL) },
  // nickname
  { label: 'an @every interval of ten years', category: 'nickname', annotations: cron('@every 87600h'), expect: added(['@every 87600h']) },
  { label: 'an @every interval under a second', category: 'nickname', annotations: cron('@every 500ms'), expect: rejected(/@every 500ms is shorter than 1s/) },
  { label: 'an @every interval of a fraction of a second', category: 'nickname', annotations: cron('@every 2.5s'), expect: rejected(/not a whole number of seconds: use @every 2s or @every 3s/) },
  { label: 'an @every without a unit', category: 'nickname', annotations: cron('@every 5'), expect: rejected(/@every needs a Go duration/) },
  { label: 'the nickname @reboot', category: 'nickname', annotations: cron('@reboot'), expect: rejected(/unknown nickname "@reboot"/) },
  { label: 'an upper-case nickname', category: 'nickname', annotations: cron('@YEARLY'), expect: added(['@YEARLY']) },
  // unicode
  { label: 'full-width digits', category: 'unicode', annotations: cron('０ 0 1 1 *'), expect: rejected(ILLEGAL) },
  { label: 'Arabic-Indic digits', category: 'unicode', annotations: cron('٠ ٠ ١ ١ *'), expect: rejected(ILLEGAL) },
  { label: 'an emoji field', category: 'unicode', annotations: cron('⏰ 0 1 1 *'), expect: rejected(ILLEGAL) },
  { label: 'a right-to-left override', category: 'unicode', annotations: cron(`\u202e${NEVER}`), expect: rejected(ILLEGAL) },
  { label: 'a zero-width space inside a field', category: 'unicode', annotations: cron('0\u200b 0 1 1 *'), expect: rejected(ILLEGAL) },
  { label: 'a trailing no-break space', category: 'unicode', annotations: cron(`${NEVER}\u00a0`), expect: added() },
  { label: 'em spaces between fields', category: 'unicode', annotations: cron('0\u20030\u20031\u20031\u2003*'), expect: added() },
  // control characters
  { label: 'a NUL byte', category: 'control characters', annotations: cron(`${NEVER}\u0000`), expect: rejected(/control characters/) },
  { label: 'an ANSI colour escape', category: 'control characters', annotations: cron(`\u001b[31m${NEVER}`), expect: rejected(/control characters/) },
  { label: 'a DEL character', category: 'control characters', annotations: cron(`0 0 1 1 \u007f*`), expect: rejected(/control characters/) },
  { label: 'tabs between fields', category: 'control characters', annotations: cron('0\t0\t1\t1\t*'), expect: added() },
  { label: 'a trailing CRLF', category: 'control characters', annotations: cron(`${NEVER}\r\n`), expect: added() },
  // huge
  { label: 'a 1 MiB schedule', category: 'huge', annotations: cron('x'.repeat(1024 * 1024)), expect: rejected(/longer than 256 characters/) },
  { label: 'a 5-field expression of 300 characters', category: 'huge', annotations: cron(`0 0 1 1 ${'1,'.repeat(150)}1`), expect: rejected(/longer than 256 characters/) },
  { label: '40 different expressions', category: 'huge', annotations: cron(forty), expect: rejected(/more than 32 schedules/) },
  { label: '100,000 separators around one expression', category: 'huge', annotations: cron(`${';'.repeat(50_000)}${NEVER}${';'.repeat(50_000)}`), expect: added() },
  { label: 'a 100 KB time zone', category: 'huge', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': `Europe/${'x'.repeat(100_000)}` }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a 100 KB async value', category: 'huge', annotations: cron(NEVER, { 'com.openfaas.cron.async': 'y'.repeat(100_000) }), expect: rejected(/async must be true or false/) },
  // time zone
  { label: 'an unknown zone', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': 'Europe/Atlantis' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a zone with a non-ASCII letter', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': 'Europe/Zürich' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a zone written as an offset name', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': 'UTC+1' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'the zone "Local"', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': 'Local' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a zone that is a file path', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': '../../../etc/passwd' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a zone with a control character', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': 'Europe/London\u0007' }), expect: rejected(UNKNOWN_ZONE) },
  { label: 'a CRON_TZ= prefix', category: 'time zone', annotations: cron(`CRON_TZ=Asia/Tokyo ${NEVER}`), expect: added([`CRON_TZ=Asia/Tokyo ${NEVER}`], { timezone: 'Asia/Tokyo' }) },
  { label: 'a TZ= prefix naming an unknown zone', category: 'time zone', annotations: cron(`TZ=Europe/Atlantis ${NEVER}`), expect: rejected(/unknown time zone "Europe\/Atlantis" in TZ=/) },
  { label: 'a CRON_TZ= prefix without a schedule', category: 'time zone', annotations: cron('CRON_TZ=Asia/Tokyo'), expect: rejected(/must be followed by a blank and the schedule/) },
  { label: 'a zone with surrounding blanks', category: 'time zone', annotations: cron(NEVER, { 'com.openfaas.cron.timezone': ' Asia/Tokyo ' }), expect: added([NEVER], { timezone: 'Asia/Tokyo' }) },
  // options
  { label: 'async "yes"', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.async': 'yes' }), expect: rejected(/async must be true or false, found "yes"/) },
  { label: 'the Go connector\'s async "yes"', category: 'options', annotations: cron(NEVER, { async: 'yes' }), expect: rejected(/^async must be true or false, found "yes"/) },
  { label: 'the Go connector\'s async "true"', category: 'options', annotations: cron(NEVER, { async: 'true' }), expect: added([NEVER], { async: true }) },
  { label: 'async " TRUE "', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.async': ' TRUE ' }), expect: added([NEVER], { async: true }) },
  { label: 'retries 11', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.retries': '11' }), expect: rejected(/retries must be a whole number from 0 to 10, found "11"/) },
  { label: 'retries -1', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.retries': '-1' }), expect: rejected(/retries must be a whole number/) },
  { label: 'retries 1e1', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.retries': '1e1' }), expect: rejected(/retries must be a whole number/) },
  { label: 'retries in Arabic-Indic digits', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.retries': '٣' }), expect: rejected(/retries must be a whole number/) },
  { label: 'concurrency "sometimes"', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.concurrency': 'sometimes' }), expect: rejected(/concurrency must be allow or forbid/) },
  { label: 'a jitter over 1h', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.jitter': '2h' }), expect: rejected(/jitter must be a Go duration up to 1h/) },
  { label: 'a negative jitter', category: 'options', annotations: cron(NEVER, { 'com.openfaas.cron.jitter': '-5s' }), expect: rejected(/jitter must be a Go duration/) },
  // topic
  { label: 'the topic inside a list', category: 'topic', annotations: { topic: `kafka,${TOPIC}`, schedule: NEVER }, expect: added() },
  { label: 'the topic with surrounding blanks', category: 'topic', annotations: { topic: `  ${TOPIC}  `, schedule: NEVER }, expect: added() },
  { label: 'the topic in another case', category: 'topic', annotations: { topic: 'Cron-Function', schedule: NEVER }, expect: ignored },
  { label: 'the topic followed by a NUL byte', category: 'topic', annotations: { topic: `${TOPIC}\u0000`, schedule: NEVER }, expect: ignored },
  { label: 'another topic with a broken schedule', category: 'topic', annotations: { topic: 'kafka', schedule: ';;' }, expect: ignored },
];

/** Function name for the i-th annotation case. */
export function annotationCaseName(index: number): string {
  return `case-${String(index).padStart(3, '0')}`;
}

/** The part of a schedule reason after the quoted expression (the whole reason otherwise). */
export function reasonDetail(reason: string): string {
  const match = /^invalid schedule ("(?:[^"\\]|\\.)*"): (.*)$/s.exec(reason);
  return match?.[2] ?? reason;
}

/** True when `text` names the number `value` on its own (not as part of 31, -1 or 130). */
export function namesValue(text: string, value: string): boolean {
  return new RegExp(`(?<![\\d-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`).test(text);
}

/** What a case expects, as the rest of a sentence: "reject day of month 32, naming 32". */
export function caseTitle(c: AnnotationCase): string {
  if (c.expect.kind === 'ignored') return `ignore ${c.label}`;
  if (c.expect.kind === 'added') return `schedule ${c.label}`;
  return `reject ${c.label}${c.expect.names === undefined ? '' : `, naming ${c.expect.names}`}`;
}

export type NameCategory = 'slash' | 'dots' | 'percent' | 'spaces' | 'unicode' | 'control characters' | 'url syntax';

export interface NameCase {
  label: string;
  category: NameCategory;
  name: string;
  namespace: string;
  /**
   * False when `<name>.<namespace>` cannot address the function (a namespace containing a dot:
   * the gateway splits at the last dot); such functions are only checked to be listed and added.
   */
  invocable: boolean;
}

export const NAME_CASES: readonly NameCase[] = [
  { label: 'a name with a slash', category: 'slash', name: 'a/b', namespace: 'dev', invocable: true },
  { label: 'a name that climbs to /system', category: 'slash', name: '../../system/namespaces', namespace: 'dev', invocable: true },
  { label: 'a namespace with a slash', category: 'slash', name: 'fn', namespace: 'team/a', invocable: true },
  { label: 'the name ".."', category: 'dots', name: '..', namespace: 'dev', invocable: true },
  { label: 'a name with dots', category: 'dots', name: 'a.b..c', namespace: 'dev', invocable: true },
  { label: 'a name ending in a dot', category: 'dots', name: 'trailing.', namespace: 'dev', invocable: true },
  { label: 'a namespace with ".."', category: 'dots', name: 'fn', namespace: 'a..b', invocable: false },
  { label: 'a name with a percent sign', category: 'percent', name: '100%', namespace: 'dev', invocable: true },
  { label: 'a name that looks percent-encoded', category: 'percent', name: '%2e%2e%2F', namespace: 'dev', invocable: true },
  { label: 'a namespace with a percent sign', category: 'percent', name: 'fn', namespace: '50%off', invocable: true },
  { label: 'a name with a space', category: 'spaces', name: 'my fn', namespace: 'dev', invocable: true },
  { label: 'a name that is one space', category: 'spaces', name: ' ', namespace: 'dev', invocable: true },
  { label: 'a namespace with spaces', category: 'spaces', name: 'fn', namespace: 'name space', invocable: true },
  { label: 'an accented name', category: 'unicode', name: 'función', namespace: 'dev', invocable: true },
  { label: 'a CJK name', category: 'unicode', name: '函数', namespace: 'dev', invocable: true },
  { label: 'an emoji name', category: 'unicode', name: '⏰🕐', namespace: 'dev', invocable: true },
  { label: 'a name with a right-to-left override', category: 'unicode', name: '\u202eevil', namespace: 'dev', invocable: true },
  { label: 'a CJK namespace', category: 'unicode', name: 'fn', namespace: '日本', invocable: true },
  { label: 'an accented namespace', category: 'unicode', name: 'fn', namespace: 'équipe', invocable: true },
  { label: 'a name with a newline', category: 'control characters', name: 'line\nbreak', namespace: 'dev', invocable: true },
  { label: 'a name with a bell', category: 'control characters', name: 'bell\u0007', namespace: 'dev', invocable: true },
  { label: 'a name with "?" and "#"', category: 'url syntax', name: 'what?x=1#frag', namespace: 'dev', invocable: true },
  { label: 'a name with "&", "=" and "+"', category: 'url syntax', name: 'a&b=c+d', namespace: 'dev', invocable: true },
  { label: 'a namespace with "?" and "&"', category: 'url syntax', name: 'fn', namespace: 'ns?x=1&y', invocable: true },
];

/** The path a function must be invoked at (synchronously). */
export function invocationPathOf(name: string, namespace: string): string {
  return `/function/${encodeURIComponent(name)}.${encodeURIComponent(namespace)}`;
}

/** A topic annotation that is selected but holds what an HTTP header value cannot carry as-is. */
export interface TopicCase {
  label: string;
  name: string;
  topic: string;
}

export const HEADER_UNSAFE_TOPICS: readonly TopicCase[] = [
  { label: 'a trailing newline (a YAML block scalar)', name: 'topic-newline', topic: `${TOPIC}\n` },
  { label: 'an emoji in another topic of the list', name: 'topic-emoji', topic: `${TOPIC},⏰` },
  { label: 'a carriage return between topics', name: 'topic-cr', topic: `${TOPIC},\rother` },
];

export type ListExpectation =
  /** Every answer is reported once as `Namespace unreadable`, with an error matching. */
  | { kind: 'unreadable'; error: RegExp }
  /** Tolerated: `added` functions (name → schedules) are scheduled, `rejected` ones warned about once, nothing else. */
  | { kind: 'listed'; added?: Record<string, string[]>; rejected?: Record<string, RegExp> };

export interface ListBodyCase {
  label: string;
  category: 'top-level shape' | 'not JSON' | 'item shape' | 'annotation shape' | 'prototype keys' | 'duplicates';
  /** The raw body of `GET /system/functions?namespace=<the case's namespace>`. */
  body: string;
  /** Status of the answer. Default 200. */
  status?: number;
  contentType?: string;
  expect: ListExpectation;
}

const fnJson = (name: unknown, annotations: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name,
  image: 'ghcr.io/openfaas/nodeinfo:latest',
  ...(annotations === undefined ? {} : { annotations }),
  ...extra,
});
const list = (...items: unknown[]): string => JSON.stringify(items);
const good = (name: string): Record<string, unknown> => fnJson(name, { topic: TOPIC, schedule: NEVER });
const NOT_ARRAY = (type: string): RegExp => new RegExp(`answered ${type} where a JSON array was expected`);
const NOT_JSON = /did not answer JSON/;
const HTML = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login"><input name="user"></form></body></html>';

export const LIST_BODY_CASES: readonly ListBodyCase[] = [
  { label: 'null (Go nil slice)', category: 'top-level shape', body: 'null', expect: { kind: 'listed' } },
  { label: 'an empty array', category: 'top-level shape', body: '[]', expect: { kind: 'listed' } },
  { label: 'an object', category: 'top-level shape', body: '{}', expect: { kind: 'unreadable', error: NOT_ARRAY('object') } },
  { label: 'a Kubernetes-style list object', category: 'top-level shape', body: JSON.stringify({ kind: 'List', items: [good('inside')] }), expect: { kind: 'unreadable', error: NOT_ARRAY('object') } },
  { label: 'a string holding an array', category: 'top-level shape', body: '"[]"', expect: { kind: 'unreadable', error: NOT_ARRAY('string') } },
  { label: 'a number', category: 'top-level shape', body: '42', expect: { kind: 'unreadable', error: NOT_ARRAY('number') } },
  { label: 'a boolean', category: 'top-level shape', body: 'true', expect: { kind: 'unreadable', error: NOT_ARRAY('boolean') } },
  { label: 'an array nested 100,000 deep', category: 'top-level shape', body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, expect: { kind: 'listed' } },
  { label: 'an empty body', category: 'not JSON', body: '', expect: { kind: 'unreadable', error: NOT_JSON } },
  { label: 'an HTML login page with status 200', category: 'not JSON', body: HTML, contentType: 'text/html', expect: { kind: 'unreadable', error: /did not answer JSON: <!DOCTYPE html>/ } },
  { label: 'an HTML error page with status 502', category: 'not JSON', body: '<html><body><h1>502 Bad Gateway</h1></body></html>', status: 502, contentType: 'text/html', expect: { kind: 'unreadable', error: /answered 502: <html><body><h1>502 Bad Gateway/ } },
  { label: 'truncated JSON', category: 'not JSON', body: '[{"name":"cut","annotations":{"topic":"cron-func', expect: { kind: 'unreadable', error: NOT_JSON } },
  { label: 'JSON followed by garbage', category: 'not JSON', body: '[]<!-- cached -->', expect: { kind: 'unreadable', error: NOT_JSON } },
  { label: 'items that are not objects', category: 'item shape', body: list(null, 1, 'fn', [], true, good('survivor')), expect: { kind: 'listed', added: { survivor: [NEVER] } } },
  { label: 'names that are not strings or are empty', category: 'item shape', body: list(fnJson(5, { topic: TOPIC, schedule: NEVER }), fnJson(null, { topic: TOPIC, schedule: NEVER }), fnJson('', { topic: TOPIC, schedule: NEVER }), fnJson({ n: 1 }, { topic: TOPIC, schedule: NEVER }), { image: 'x', annotations: { topic: TOPIC, schedule: NEVER } }), expect: { kind: 'listed' } },
  { label: 'an item that claims another namespace', category: 'item shape', body: list(good('moved'), { ...good('claims'), namespace: 'kube-system' }), expect: { kind: 'listed', added: { moved: [NEVER], claims: [NEVER] } } },
  { label: 'fields of unexpected types next to good annotations', category: 'item shape', body: list(fnJson('odd-fields', { topic: TOPIC, schedule: NEVER }, { replicas: 'many', createdAt: 5, labels: [1], envVars: 'x' })), expect: { kind: 'listed', added: { 'odd-fields': [NEVER] } } },
  { label: 'missing annotations', category: 'annotation shape', body: list(fnJson('bare', undefined)), expect: { kind: 'listed' } },
  { label: 'null annotations', category: 'annotation shape', body: list(fnJson('nulled', null)), expect: { kind: 'listed' } },
  { label: 'annotations as an array of pairs', category: 'annotation shape', body: list(fnJson('pairs', [['topic', TOPIC], ['schedule', NEVER]])), expect: { kind: 'listed' } },
  { label: 'annotations as a string', category: 'annotation shape', body: list(fnJson('stringly', `topic=${TOPIC},schedule=${NEVER}`)), expect: { kind: 'listed' } },
  { label: 'a schedule that is a number', category: 'annotation shape', body: list(fnJson('numeric', { topic: TOPIC, schedule: 5 })), expect: { kind: 'listed', rejected: { numeric: NO_SCHEDULE } } },
  { label: 'a schedule that is an array', category: 'annotation shape', body: list(fnJson('arrayed', { topic: TOPIC, schedule: [NEVER, '0 0 2 2 *'] })), expect: { kind: 'listed', rejected: { arrayed: NO_SCHEDULE } } },
  { label: 'a topic that is an array', category: 'annotation shape', body: list(fnJson('topics', { topic: [TOPIC], schedule: NEVER })), expect: { kind: 'listed' } },
  { label: 'a time zone that is a number', category: 'annotation shape', body: list(fnJson('zoned', { topic: TOPIC, schedule: NEVER, 'com.openfaas.cron.timezone': 9 })), expect: { kind: 'listed', added: { zoned: [NEVER] } } },
  { label: 'a schedule written with unicode escapes', category: 'annotation shape', body: `[{"name":"escaped","annotations":{"topic":"cron-function","schedule":"\\u0030 \\u0030 1 1 *"}}]`, expect: { kind: 'listed', added: { escaped: [NEVER] } } },
  { label: 'a repeated key (the last one counts)', category: 'annotation shape', body: `[{"name":"repeated","annotations":{"topic":"cron-function","schedule":"bad","schedule":"${NEVER}"}}]`, expect: { kind: 'listed', added: { repeated: [NEVER] } } },
  { label: 'annotations hidden under __proto__', category: 'prototype keys', body: `[{"name":"proto","annotations":{"__proto__":{"topic":"cron-function","schedule":"* * * * * *"}}},{"name":"after-proto","annotations":{"topic":"cron-function","schedule":"${NEVER}"}}]`, expect: { kind: 'listed', added: { 'after-proto': [NEVER] } } },
  { label: 'annotation keys named like Object members', category: 'prototype keys', body: `[{"name":"methods","annotations":{"topic":"cron-function","schedule":"${NEVER}","constructor":"x","toString":"y","hasOwnProperty":"z","__proto__":"w"}}]`, expect: { kind: 'listed', added: { methods: [NEVER] } } },
  { label: 'a function listed twice (the last entry counts)', category: 'duplicates', body: list(fnJson('twice', { topic: TOPIC, schedule: '0 0 2 2 *' }), good('twice')), expect: { kind: 'listed', added: { twice: [NEVER] } } },
];

/** Namespace for the i-th list body case. */
export function listCaseNamespace(index: number): string {
  return `shape-${String(index).padStart(2, '0')}`;
}

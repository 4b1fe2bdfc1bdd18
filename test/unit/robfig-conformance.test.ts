/**
 * Conformance with robfig/cron v3, the parser of the Go openfaas/cron-connector
 * (cron.NewParser(Minute | Hour | Dom | Month | Dow | Descriptor), i.e. cron.ParseStandard):
 * every expression it accepts must be accepted here and fire at the same times, except across
 * DST, where docs/adr/0002 applies (rows marked `robfig:` give robfig's answer).
 *
 * Facts ported (expressions, reference times and robfig's answers; no code) from robfig/cron v3:
 * - spec_test.go: TestActivation, TestNext (run there with the 6-field seconds parser), TestErrors,
 *   TestNextWithTz, TestSlash0NoHang;
 * - parser_test.go: TestRange, TestField, TestAll, TestParseScheduleErrors, TestParseSchedule,
 *   TestOptionalSecondSchedule, TestStandardSpecSchedule (generic bounds mapped onto real fields);
 * - doc.go: the examples and rules of "CRON Expression Format", "Special Characters",
 *   "Predefined schedules", "Intervals" and "Time zones";
 * - parser.go, spec.go and constantdelay.go: rules the tests do not exercise ("derived" rows):
 *   the star bit (issue #70: `*` or `?`, also `*\/1`, `*,5` and `*-5`, make a day field
 *   unrestricted; `*\/2` and `1-31` do not), `N/step` = N-max/step, steps past the field,
 *   Atoi's `+5`, empty list entries, case-insensitive names, CRON_TZ= with an empty zone or
 *   Local, and time.ParseDuration for @every.
 * robfig's tests run in the machine's zone; rows without a zone run in UTC, which is the same
 * outside DST.
 *
 * Extensions we keep (robfig rejects them; croner's meaning applies): a leading seconds field
 * (robfig's seconds parser reads it the same way), `L`, `LW`, `W`, `#`, `5L`, weekday 7 and
 * ranges ending in it (MON-SUN), `+` (AND) before a day-of-week robfig rejects (`+FRI`),
 * descriptors in any case (@DAILY), extra whitespace around fields and prefixes.
 *
 * Deliberate differences (robfig accepts): expressions that never fire are rejected (robfig
 * returns the zero time); @every under 1s or with a fraction of a second is rejected (robfig
 * rounds to 1s / truncates); @every slots are whole multiples of the interval since the Unix
 * epoch (robfig counts from when the entry was added); DST follows docs/adr/0002.
 */
import { describe, expect, it } from 'vitest';
import { compileSchedule } from '../../src/schedule/cron.ts';
import { compile, runs } from '../helpers/schedules.ts';

type Row =
  /** robfig accepts: the next `times` strictly after `from` (`robfig`: its answer, where ADR 2 differs). */
  | { readonly source: string; readonly expression: string; readonly zone?: string; readonly from: string; readonly times: readonly string[]; readonly robfig?: readonly string[] }
  /** TestActivation: whether it fires at `at` (next(at - 1s) === at). */
  | { readonly source: string; readonly expression: string; readonly zone?: string; readonly at: string; readonly fires: boolean }
  /** robfig rejects it, and so do we. */
  | { readonly source: string; readonly expression: string; readonly rejected: RegExp }
  /** robfig rejects it; we accept it as a croner extension (times given for the record). */
  | { readonly source: string; readonly expression: string; readonly zone?: string; readonly from: string; readonly extension: readonly string[] }
  /** robfig accepts it, but it never fires (or, for @every, robfig rounds it): we reject it, saying why. */
  | { readonly source: string; readonly expression: string; readonly differs: RegExp; readonly note: string };

const JUL9 = '2012-07-09T23:35:00Z';
/** A Wednesday; 2026-01-01 is a Thursday, 2026-02-01 and 2026-03-01 are Sundays. */
const D = '2025-12-31T12:00:00Z';

const ROWS: readonly Row[] = [
  // spec_test.go TestActivation (ParseStandard, 5 fields)
  { source: 'TestActivation', expression: '0/15 * * * *', at: '2012-07-09T15:00:00Z', fires: true },
  { source: 'TestActivation', expression: '0/15 * * * *', at: '2012-07-09T15:45:00Z', fires: true },
  { source: 'TestActivation', expression: '0/15 * * * *', at: '2012-07-09T15:40:00Z', fires: false },
  { source: 'TestActivation', expression: '5/15 * * * *', at: '2012-07-09T15:05:00Z', fires: true },
  { source: 'TestActivation', expression: '5/15 * * * *', at: '2012-07-09T15:20:00Z', fires: true },
  { source: 'TestActivation', expression: '5/15 * * * *', at: '2012-07-09T15:50:00Z', fires: true },
  { source: 'TestActivation', expression: '0/15 * * Jul *', at: '2012-07-15T15:00:00Z', fires: true },
  { source: 'TestActivation', expression: '0/15 * * Jun *', at: '2012-07-15T15:00:00Z', fires: false },
  { source: 'TestActivation', expression: '30 08 ? Jul Sun', at: '2012-07-15T08:30:00Z', fires: true },
  { source: 'TestActivation', expression: '30 08 15 Jul ?', at: '2012-07-15T08:30:00Z', fires: true },
  { source: 'TestActivation', expression: '30 08 ? Jul Sun', at: '2012-07-16T08:30:00Z', fires: false },
  { source: 'TestActivation', expression: '30 08 15 Jul ?', at: '2012-07-16T08:30:00Z', fires: false },
  { source: 'TestActivation', expression: '@hourly', at: '2012-07-09T15:00:00Z', fires: true },
  { source: 'TestActivation', expression: '@hourly', at: '2012-07-09T15:04:00Z', fires: false },
  { source: 'TestActivation', expression: '@daily', at: '2012-07-09T15:00:00Z', fires: false },
  { source: 'TestActivation', expression: '@daily', at: '2012-07-09T00:00:00Z', fires: true },
  { source: 'TestActivation', expression: '@weekly', at: '2012-07-09T00:00:00Z', fires: false },
  { source: 'TestActivation', expression: '@weekly', at: '2012-07-08T00:00:00Z', fires: true },
  { source: 'TestActivation', expression: '@weekly', at: '2012-07-08T01:00:00Z', fires: false },
  { source: 'TestActivation', expression: '@monthly', at: '2012-07-08T00:00:00Z', fires: false },
  { source: 'TestActivation', expression: '@monthly', at: '2012-07-01T00:00:00Z', fires: true },
  { source: 'TestActivation: both day fields restricted, one must match', expression: '* * 1,15 * Sun', at: '2012-07-15T00:00:00Z', fires: true },
  { source: 'TestActivation', expression: '* * 1,15 * Sun', at: '2012-06-15T00:00:00Z', fires: true },
  { source: 'TestActivation', expression: '* * 1,15 * Sun', at: '2012-08-01T00:00:00Z', fires: true },
  { source: 'TestActivation (issue #70: */10 is not a star)', expression: '* * */10 * Sun', at: '2012-07-15T00:00:00Z', fires: true },
  { source: 'TestActivation: one field a star, both must match', expression: '* * * * Mon', at: '2012-07-15T00:00:00Z', fires: false },
  { source: 'TestActivation', expression: '* * 1,15 * *', at: '2012-07-09T00:00:00Z', fires: false },
  { source: 'TestActivation', expression: '* * 1,15 * *', at: '2012-07-15T00:00:00Z', fires: true },
  { source: 'TestActivation', expression: '* * */2 * Sun', at: '2012-07-15T00:00:00Z', fires: true },

  // spec_test.go TestNext (6 fields: robfig's seconds parser)
  { source: 'TestNext', expression: '0 0/15 * * * *', from: '2012-07-09T14:45:00Z', times: ['2012-07-09T15:00:00Z'] },
  { source: 'TestNext', expression: '0 0/15 * * * *', from: '2012-07-09T14:59:00Z', times: ['2012-07-09T15:00:00Z'] },
  { source: 'TestNext', expression: '0 0/15 * * * *', from: '2012-07-09T14:59:59Z', times: ['2012-07-09T15:00:00Z'] },
  { source: 'TestNext: wrap around hours', expression: '0 20-35/15 * * * *', from: '2012-07-09T15:45:00Z', times: ['2012-07-09T16:20:00Z'] },
  { source: 'TestNext: wrap around days', expression: '0 */15 * * * *', from: '2012-07-09T23:46:00Z', times: ['2012-07-10T00:00:00Z'] },
  { source: 'TestNext', expression: '0 20-35/15 * * * *', from: '2012-07-09T23:45:00Z', times: ['2012-07-10T00:20:00Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 * * * *', from: '2012-07-09T23:35:51Z', times: ['2012-07-10T00:20:15Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 1/2 * * *', from: '2012-07-09T23:35:51Z', times: ['2012-07-10T01:20:15Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 10-12 * * *', from: '2012-07-09T23:35:51Z', times: ['2012-07-10T10:20:15Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 1/2 */2 * *', from: '2012-07-09T23:35:51Z', times: ['2012-07-11T01:20:15Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 * 9-20 * *', from: '2012-07-09T23:35:51Z', times: ['2012-07-10T00:20:15Z'] },
  { source: 'TestNext', expression: '15/35 20-35/15 * 9-20 Jul *', from: '2012-07-09T23:35:51Z', times: ['2012-07-10T00:20:15Z'] },
  { source: 'TestNext: wrap around months', expression: '0 0 0 9 Apr-Oct ?', from: JUL9, times: ['2012-08-09T00:00:00Z'] },
  { source: 'TestNext (v3: */5 is not a star, so OR)', expression: '0 0 0 */5 Apr,Aug,Oct Mon', from: JUL9, times: ['2012-08-01T00:00:00Z'] },
  { source: 'TestNext', expression: '0 0 0 */5 Oct Mon', from: JUL9, times: ['2012-10-01T00:00:00Z'] },
  { source: 'TestNext: wrap around years', expression: '0 0 0 * Feb Mon', from: JUL9, times: ['2013-02-04T00:00:00Z'] },
  { source: 'TestNext', expression: '0 0 0 * Feb Mon/2', from: JUL9, times: ['2013-02-01T00:00:00Z'] },
  { source: 'TestNext: wrap around every field', expression: '0 * * * * *', from: '2012-12-31T23:59:45Z', times: ['2013-01-01T00:00:00Z'] },
  { source: 'TestNext: leap year', expression: '0 0 0 29 Feb ?', from: JUL9, times: ['2016-02-29T00:00:00Z'] },
  // DST, America/New_York 2012-03-11 02:00 EST -> 03:00 EDT
  { source: 'TestNext: spring forward, fixed time in the gap', expression: 'TZ=America/New_York 0 30 2 11 Mar ?', from: '2012-03-11T00:00:00-05:00', times: ['2012-03-11T03:00:00-04:00'], robfig: ['2013-03-11T02:30:00-04:00'] },
  { source: 'TestNext: hourly across spring forward', expression: 'TZ=America/New_York 0 0 * * * ?', from: '2012-03-11T00:00:00-05:00', times: ['2012-03-11T01:00:00-05:00', '2012-03-11T03:00:00-04:00', '2012-03-11T04:00:00-04:00', '2012-03-11T05:00:00-04:00'] },
  { source: 'TestNext: hourly with CRON_TZ', expression: 'CRON_TZ=America/New_York 0 0 * * * ?', from: '2012-03-11T00:00:00-05:00', times: ['2012-03-11T01:00:00-05:00', '2012-03-11T03:00:00-04:00', '2012-03-11T04:00:00-04:00', '2012-03-11T05:00:00-04:00'] },
  { source: 'TestNext: 1am nightly', expression: 'TZ=America/New_York 0 0 1 * * ?', from: '2012-03-11T00:00:00-05:00', times: ['2012-03-11T01:00:00-05:00', '2012-03-12T01:00:00-04:00'] },
  { source: 'TestNext: 2am nightly, in the gap', expression: 'TZ=America/New_York 0 0 2 * * ?', from: '2012-03-11T00:00:00-05:00', times: ['2012-03-11T03:00:00-04:00'], robfig: ['2012-03-12T02:00:00-04:00'] },
  // DST, America/New_York 2012-11-04 02:00 EDT -> 01:00 EST
  { source: 'TestNext: fall back', expression: 'TZ=America/New_York 0 30 2 04 Nov ?', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T02:30:00-05:00'] },
  { source: 'TestNext: fall back, second 01:30', expression: 'TZ=America/New_York 0 30 1 04 Nov ?', from: '2012-11-04T01:45:00-04:00', times: ['2013-11-04T01:30:00-05:00'], robfig: ['2012-11-04T01:30:00-05:00'] },
  { source: 'TestNext: hourly across fall back', expression: 'TZ=America/New_York 0 0 * * * ?', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T01:00:00-04:00', '2012-11-04T01:00:00-05:00', '2012-11-04T02:00:00-05:00'] },
  { source: 'TestNext: 1am nightly, runs twice in robfig', expression: 'TZ=America/New_York 0 0 1 * * ?', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T01:00:00-04:00', '2012-11-05T01:00:00-05:00'], robfig: ['2012-11-04T01:00:00-04:00', '2012-11-04T01:00:00-05:00', '2012-11-05T01:00:00-05:00'] },
  { source: 'TestNext: 2am nightly', expression: 'TZ=America/New_York 0 0 2 * * ?', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T02:00:00-05:00', '2012-11-05T02:00:00-05:00'] },
  { source: 'TestNext: 3am nightly', expression: 'TZ=America/New_York 0 0 3 * * ?', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T03:00:00-05:00', '2012-11-05T03:00:00-05:00'] },
  { source: 'TestNext: the zone of the time (here: of the function)', expression: '0 0 * * * ?', zone: 'America/New_York', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T01:00:00-04:00', '2012-11-04T01:00:00-05:00', '2012-11-04T02:00:00-05:00'] },
  { source: 'TestNext', expression: '0 0 1 * * ?', zone: 'America/New_York', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T01:00:00-04:00', '2012-11-05T01:00:00-05:00'], robfig: ['2012-11-04T01:00:00-04:00', '2012-11-04T01:00:00-05:00', '2012-11-05T01:00:00-05:00'] },
  { source: 'TestNext', expression: '0 0 2 * * ?', zone: 'America/New_York', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T02:00:00-05:00', '2012-11-05T02:00:00-05:00'] },
  { source: 'TestNext', expression: '0 0 3 * * ?', zone: 'America/New_York', from: '2012-11-04T00:00:00-04:00', times: ['2012-11-04T03:00:00-05:00', '2012-11-05T03:00:00-05:00'] },
  { source: 'TestNext: monthly', expression: '0 0 3 3 * ?', zone: 'America/New_York', from: '2012-11-04T00:00:00-04:00', times: ['2012-12-03T03:00:00-05:00'] },
  { source: 'TestNext: midnight skipped by DST (issue #157)', expression: 'TZ=America/Sao_Paulo 0 0 9 10 * ?', from: '2018-10-17T05:00:00-04:00', times: ['2018-11-10T06:00:00-05:00'] },
  { source: 'TestNext (issue #157)', expression: 'TZ=America/Sao_Paulo 0 0 9 22 * ?', from: '2018-02-14T05:00:00-05:00', times: ['2018-02-22T07:00:00-05:00'] },
  { source: 'TestNext: unsatisfiable', expression: '0 0 0 30 Feb ?', differs: /never fires/, note: 'robfig returns the zero time' },
  { source: 'TestNext: unsatisfiable', expression: '0 0 0 31 Apr ?', differs: /never fires/, note: 'robfig returns the zero time' },

  // spec_test.go TestNextWithTz: the zone of the time given (+05:30, as Asia/Kolkata)
  { source: 'TestNextWithTz', expression: '14 14 * * *', zone: 'Asia/Kolkata', from: '2016-01-03T13:09:03+05:30', times: ['2016-01-03T14:14:00+05:30'] },
  { source: 'TestNextWithTz', expression: '14 14 * * ?', zone: 'Asia/Kolkata', from: '2016-01-03T04:09:03+05:30', times: ['2016-01-03T14:14:00+05:30'] },
  { source: 'TestNextWithTz', expression: '14 14 * * *', zone: 'Asia/Kolkata', from: '2016-01-03T14:09:03+05:30', times: ['2016-01-03T14:14:00+05:30'] },
  { source: 'TestNextWithTz', expression: '14 14 * * ?', zone: 'Asia/Kolkata', from: '2016-01-03T14:00:00+05:30', times: ['2016-01-03T14:14:00+05:30'] },

  // spec_test.go TestErrors, TestSlash0NoHang
  { source: 'TestErrors', expression: 'xyz', rejected: /expected 5 fields/ },
  { source: 'TestErrors', expression: '60 0 * * *', rejected: /minute/ },
  { source: 'TestErrors', expression: '0 60 * * *', rejected: /hour/ },
  { source: 'TestErrors', expression: '0 0 * * XYZ', rejected: /illegal/ },
  { source: 'TestSlash0NoHang', expression: 'TZ=America/New_York 15/0 * * * *', rejected: /stepping|step/ },

  // parser_test.go TestRange (bounds 0-7 read as the minute field, 1-3 as the month field)
  { source: 'TestRange', expression: '5 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '0 * * * *', from: D, times: ['2025-12-31T13:00:00Z'] },
  { source: 'TestRange', expression: '7 * * * *', from: D, times: ['2025-12-31T12:07:00Z'] },
  { source: 'TestRange', expression: '5-5 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '5-6 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:06:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '5-7 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:06:00Z', '2025-12-31T12:07:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '5-6/2 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '5-7/2 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:07:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestRange', expression: '5-7/1 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:06:00Z', '2025-12-31T12:07:00Z'] },
  { source: 'TestRange: */2 over 1-3 is 1,3', expression: '0 0 1 */2 *', from: D, times: ['2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z'] },
  { source: 'TestRange', expression: '5--5 * * * *', rejected: /illegal range/ },
  { source: 'TestRange', expression: '0 0 1 jan-x *', rejected: /illegal/ },
  { source: 'TestRange', expression: '0 0 2-x * *', rejected: /illegal/ },
  { source: 'TestRange', expression: '*/-12 * * * *', rejected: /illegal/ },
  { source: 'TestRange', expression: '*//2 * * * *', rejected: /illegal/ },
  { source: 'TestRange: below minimum', expression: '0 0 0 * *', rejected: /day-of-month 0 is out of range/ },
  { source: 'TestRange: above maximum', expression: '0 0 * 13 *', rejected: /month 13 is out of range/ },
  { source: 'TestRange: beyond end of range', expression: '30-10 * * * *', rejected: /30-10/ },
  { source: 'TestRange: step 0', expression: '*/0 * * * *', rejected: /stepping: 0/ },
  // TestField (bounds 1-7 read as the minute field), TestAll
  { source: 'TestField', expression: '5,6 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:06:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestField', expression: '5,6,7 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:06:00Z', '2025-12-31T12:07:00Z'] },
  { source: 'TestField', expression: '1,5-7/2,3 * * * *', from: D, times: ['2025-12-31T12:01:00Z', '2025-12-31T12:03:00Z', '2025-12-31T12:05:00Z', '2025-12-31T12:07:00Z', '2025-12-31T13:01:00Z'] },
  { source: 'TestAll', expression: '* * * * *', from: D, times: ['2025-12-31T12:01:00Z', '2025-12-31T12:02:00Z'] },
  // TestParseScheduleErrors, TestStandardSpecSchedule
  { source: 'TestParseScheduleErrors', expression: '* 5 j * * *', rejected: /illegal/ },
  { source: 'TestStandardSpecSchedule', expression: '5 j * * *', rejected: /illegal/ },
  { source: 'TestParseScheduleErrors', expression: '@every Xm', rejected: /@every needs a Go duration/ },
  { source: 'TestParseScheduleErrors', expression: '@unrecognized', rejected: /unknown nickname/ },
  { source: 'TestParseScheduleErrors', expression: '* * * *', rejected: /expected 5 fields .* found 4/ },
  { source: 'TestParseScheduleErrors', expression: '', rejected: /expected 5 fields/ },
  // TestParseSchedule, TestOptionalSecondSchedule, TestStandardSpecSchedule
  { source: 'TestParseSchedule', expression: '0 5 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestParseSchedule', expression: '5 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestParseSchedule: CRON_TZ overrides the default zone', expression: 'CRON_TZ=UTC  0 5 * * * *', zone: 'Asia/Kolkata', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestParseSchedule', expression: 'CRON_TZ=UTC  5 * * * *', zone: 'Asia/Kolkata', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T13:05:00Z'] },
  { source: 'TestParseSchedule', expression: 'CRON_TZ=Asia/Tokyo 0 5 * * * *', zone: 'Asia/Kolkata', from: D, times: ['2025-12-31T12:05:00Z'] },
  { source: 'TestParseSchedule: @every 5m (slots: multiples of 5m since the epoch)', expression: '@every 5m', from: '2025-12-31T12:02:30Z', times: ['2025-12-31T12:05:00Z', '2025-12-31T12:10:00Z'] },
  { source: 'TestParseSchedule', expression: '@midnight', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'] },
  { source: 'TestParseSchedule', expression: 'TZ=UTC  @midnight', zone: 'Asia/Kolkata', from: D, times: ['2026-01-01T00:00:00Z'] },
  { source: 'TestParseSchedule', expression: 'TZ=Asia/Tokyo @midnight', from: D, times: ['2025-12-31T15:00:00Z', '2026-01-01T15:00:00Z'] },
  { source: 'TestParseSchedule', expression: '@yearly', from: D, times: ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] },
  { source: 'TestParseSchedule', expression: '@annually', from: D, times: ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] },
  { source: 'TestParseSchedule', expression: '* 5 * * * *', from: D, times: ['2025-12-31T12:05:00Z', '2025-12-31T12:05:01Z', '2025-12-31T12:05:02Z'] },
  { source: 'TestOptionalSecondSchedule', expression: '5 5 * * * *', from: D, times: ['2025-12-31T12:05:05Z', '2025-12-31T13:05:05Z'] },

  // doc.go
  { source: 'doc.go: every hour on the half hour', expression: '30 * * * *', from: D, times: ['2025-12-31T12:30:00Z', '2025-12-31T13:30:00Z'] },
  { source: 'doc.go: in the range 3-6am, 8-11pm', expression: '30 3-6,20-23 * * *', from: D, times: ['2025-12-31T20:30:00Z', '2025-12-31T21:30:00Z', '2025-12-31T22:30:00Z', '2025-12-31T23:30:00Z', '2026-01-01T03:30:00Z'] },
  { source: 'doc.go: 04:30 Tokyo time every day', expression: 'CRON_TZ=Asia/Tokyo 30 04 * * *', from: D, times: ['2025-12-31T19:30:00Z', '2026-01-01T19:30:00Z'] },
  { source: 'doc.go', expression: '@hourly', from: D, times: ['2025-12-31T13:00:00Z'] },
  { source: 'doc.go: every hour thirty', expression: '@every 1h30m', from: D, times: ['2025-12-31T13:30:00Z', '2025-12-31T15:00:00Z'] },
  { source: 'doc.go', expression: '@daily', from: D, times: ['2026-01-01T00:00:00Z'] },
  { source: 'doc.go: 6am in the default zone', expression: '0 6 * * ?', zone: 'America/New_York', from: D, times: ['2026-01-01T11:00:00Z'] },
  { source: 'doc.go: 6am in Asia/Tokyo, whatever the default zone', expression: 'CRON_TZ=Asia/Tokyo 0 6 * * ?', zone: 'America/New_York', from: D, times: ['2025-12-31T21:00:00Z', '2026-01-01T21:00:00Z'] },
  { source: 'doc.go: TZ= for legacy compatibility', expression: 'TZ=Asia/Tokyo 0 6 * * ?', zone: 'America/New_York', from: D, times: ['2025-12-31T21:00:00Z'] },
  { source: 'doc.go: 3-59/15', expression: '3-59/15 * * * *', from: D, times: ['2025-12-31T12:03:00Z', '2025-12-31T12:18:00Z', '2025-12-31T12:33:00Z', '2025-12-31T12:48:00Z', '2025-12-31T13:03:00Z'] },
  { source: 'doc.go: N/... is N-MAX/..., it does not wrap', expression: '50/15 * * * *', from: D, times: ['2025-12-31T12:50:00Z', '2025-12-31T13:50:00Z'] },
  { source: 'doc.go: MON,WED,FRI', expression: '0 0 * * MON,WED,FRI', from: D, times: ['2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z', '2026-01-07T00:00:00Z'] },
  { source: 'doc.go: names are case insensitive', expression: '0 0 * * sun,Sun,SUN', from: D, times: ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z'] },
  { source: 'doc.go: 9-17', expression: '0 9-17 * * *', from: D, times: ['2025-12-31T13:00:00Z', '2025-12-31T14:00:00Z'] },
  { source: 'doc.go: @weekly is 0 0 * * 0', expression: '@weekly', from: D, times: ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z'] },
  { source: 'doc.go: @monthly is 0 0 1 * *', expression: '@monthly', from: D, times: ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'] },
  { source: 'doc.go: @every 1h30m10s', expression: '@every 1h30m10s', from: '1970-01-01T00:00:00Z', times: ['1970-01-01T01:30:10Z', '1970-01-01T03:00:20Z'] },

  // derived from parser.go / spec.go: the star bit (issue #70)
  { source: 'derived: */1 is a star, so Mondays only', expression: '0 0 */1 * MON', from: D, times: ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z', '2026-01-19T00:00:00Z'] },
  { source: 'derived: a list holding * is a star', expression: '0 0 *,15 * MON', from: D, times: ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z'] },
  { source: 'derived: a list holding ? is a star', expression: '0 0 ?,15 * MON', from: D, times: ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z'] },
  { source: 'derived: *-10 is * (robfig ignores the rest)', expression: '0 0 *-10 * MON', from: D, times: ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z'] },
  { source: 'derived: ? in day-of-month, AND', expression: '0 0 13 * ?', from: D, times: ['2026-01-13T00:00:00Z', '2026-02-13T00:00:00Z'] },
  { source: 'derived: ? in day-of-week, AND', expression: '0 0 ? * 5', from: D, times: ['2026-01-02T00:00:00Z', '2026-01-09T00:00:00Z'] },
  { source: 'derived: 1-31 is not a star, so OR: every day', expression: '0 0 1-31 * MON', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'] },
  {
    source: 'derived (issue #70): */2 is not a star, so odd days OR Mondays',
    expression: '0 0 */2 * MON',
    from: D,
    times: ['2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-05T00:00:00Z', '2026-01-07T00:00:00Z', '2026-01-09T00:00:00Z', '2026-01-11T00:00:00Z', '2026-01-12T00:00:00Z', '2026-01-13T00:00:00Z'],
  },
  { source: 'derived: */2 in day-of-week with a star day-of-month: Sun, Tue, Thu, Sat', expression: '0 0 * * */2', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z', '2026-01-04T00:00:00Z', '2026-01-06T00:00:00Z'] },
  { source: 'derived: the 13th OR Sundays (*/7 is Sunday, not a star)', expression: '0 0 13 * */7', from: D, times: ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z', '2026-01-13T00:00:00Z', '2026-01-18T00:00:00Z'] },
  { source: 'derived: the 13th OR Fridays', expression: '0 0 13 * 5', from: D, times: ['2026-01-02T00:00:00Z', '2026-01-09T00:00:00Z', '2026-01-13T00:00:00Z', '2026-01-16T00:00:00Z'] },
  // derived: numbers, steps and lists as Go's parser reads them
  { source: 'derived: Atoi reads +5 as 5 (croner would read + as AND)', expression: '0 0 13 * +5', from: D, times: ['2026-01-02T00:00:00Z', '2026-01-09T00:00:00Z', '2026-01-13T00:00:00Z'] },
  { source: 'derived: +5 and +1', expression: '+5 +1 * * *', from: D, times: ['2026-01-01T01:05:00Z', '2026-01-02T01:05:00Z'] },
  { source: 'derived: leading zeros', expression: '007 08 * * *', from: D, times: ['2026-01-01T08:07:00Z'] },
  { source: 'derived: ? in the minute field is *', expression: '? 0 * * *', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'] },
  { source: 'derived: empty list entries are dropped', expression: '0,,30 * * * *', from: D, times: ['2025-12-31T12:30:00Z', '2025-12-31T13:00:00Z', '2025-12-31T13:30:00Z'] },
  { source: 'derived: leading and trailing commas', expression: ',15, * * * *', from: D, times: ['2025-12-31T12:15:00Z', '2025-12-31T13:15:00Z'] },
  { source: 'derived: a step past the field selects its start', expression: '*/61 * * * *', from: D, times: ['2025-12-31T13:00:00Z', '2025-12-31T14:00:00Z'] },
  { source: 'derived: steps past minute and hour', expression: '*/100 */25 * * *', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'] },
  { source: 'derived: steps past day and month', expression: '0 0 */40 */13 *', from: D, times: ['2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'] },
  { source: 'derived: a step past the weekdays', expression: '0 0 * * */9', from: D, times: ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z'] },
  { source: 'derived: N/step with N the last value', expression: '0 22/1 * * *', from: D, times: ['2025-12-31T22:00:00Z', '2025-12-31T23:00:00Z', '2026-01-01T22:00:00Z'] },
  { source: 'derived: month names in a range', expression: '0 0 1 jan-mar *', from: D, times: ['2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', '2027-01-01T00:00:00Z'] },
  { source: 'derived: a month name with a step', expression: '0 0 1 JAN/3 *', from: D, times: ['2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z', '2026-07-01T00:00:00Z', '2026-10-01T00:00:00Z'] },
  { source: 'derived: weekday names in any case', expression: '0 0 * * mOn-fRi', from: D, times: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z'] },
  { source: 'derived: a weekday name with a step', expression: '0 0 * * mon/2', from: D, times: ['2026-01-02T00:00:00Z', '2026-01-05T00:00:00Z', '2026-01-07T00:00:00Z'] },
  { source: 'derived: leap day', expression: '0 0 29 2 *', from: D, times: ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z'] },
  { source: 'derived: a field of empty entries', expression: '0 0 1 , *', differs: /month field "," selects no value/, note: 'robfig accepts it and never fires' },
  { source: 'derived: robfig rejects weekday 7 in a range', expression: '0 0 * * 1-7', from: D, extension: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'] },
  { source: 'derived: negative numbers', expression: '-1 * * * *', rejected: /illegal/ },
  { source: 'derived: a day name not three letters', expression: '0 0 * * monday', rejected: /stand alone/ },
  { source: 'derived: seven fields', expression: '0 0 0 1 1 * 2030', rejected: /found 7/ },
  // derived: CRON_TZ= and TZ=
  { source: 'derived: an unknown zone', expression: 'TZ=Bogus * * * * *', rejected: /unknown time zone "Bogus" in TZ=/ },
  { source: 'derived: an unknown zone', expression: 'CRON_TZ=Mars/Olympus_Mons 0 6 * * *', rejected: /unknown time zone "Mars\/Olympus_Mons" in CRON_TZ=/ },
  { source: 'derived: a prefix alone (robfig panics)', expression: 'CRON_TZ=Asia/Tokyo', rejected: /must be followed by a blank and the schedule/ },
  { source: 'derived: an empty zone is UTC (time.LoadLocation(""))', expression: 'CRON_TZ= 0 6 * * *', zone: 'Asia/Tokyo', from: D, times: ['2026-01-01T06:00:00Z'] },
  { source: 'derived: Local is the zone without a prefix (here: the function\'s)', expression: 'CRON_TZ=Local 0 6 * * *', zone: 'Asia/Tokyo', from: D, times: ['2025-12-31T21:00:00Z'] },
  { source: 'derived: a prefix before a descriptor', expression: 'CRON_TZ=Asia/Tokyo @weekly', from: D, times: ['2026-01-03T15:00:00Z', '2026-01-10T15:00:00Z'] },
  { source: 'derived: the zone does not move @every', expression: 'CRON_TZ=Asia/Kolkata @every 1h', from: D, times: ['2025-12-31T13:00:00Z', '2025-12-31T14:00:00Z'] },
  // derived: @every durations, as time.ParseDuration reads them
  { source: 'derived: @every 90s', expression: '@every 90s', from: D, times: ['2025-12-31T12:01:30Z', '2025-12-31T12:03:00Z'] },
  { source: 'derived: @every 1.5h', expression: '@every 1.5h', from: D, times: ['2025-12-31T13:30:00Z'] },
  { source: 'derived: @every 2000ms', expression: '@every 2000ms', from: D, times: ['2025-12-31T12:00:02Z', '2025-12-31T12:00:04Z'] },
  { source: 'derived: @every .5m', expression: '@every .5m', from: D, times: ['2025-12-31T12:00:30Z'] },
  { source: 'derived: @every 1h0m0s', expression: '@every 1h0m0s', from: D, times: ['2025-12-31T13:00:00Z'] },
  { source: 'derived: @every without a duration', expression: '@every', rejected: /@every needs a Go duration/ },
  { source: 'derived: @every without a unit', expression: '@every 5', rejected: /@every needs a Go duration/ },
  { source: 'derived: @every with an unknown unit', expression: '@every 5d', rejected: /@every needs a Go duration/ },
  { source: 'derived: @every 500ms', expression: '@every 500ms', differs: /shorter than 1s/, note: 'robfig rounds it up to 1s' },
  { source: 'derived: @every 0s', expression: '@every 0s', differs: /shorter than 1s/, note: 'robfig rounds it up to 1s' },
  { source: 'derived: @every -1m', expression: '@every -1m', differs: /shorter than 1s/, note: 'robfig rounds it up to 1s' },
  { source: 'derived: @every 1.5s', expression: '@every 1.5s', differs: /not a whole number of seconds: use @every 1s or @every 2s/, note: 'robfig truncates it to 1s' },

  // croner extensions robfig rejects
  { source: 'extension: weekday 7 is Sunday', expression: '0 0 * * 7', from: D, extension: ['2026-01-04T00:00:00Z', '2026-01-11T00:00:00Z'] },
  { source: 'extension: MON-SUN', expression: '0 0 * * MON-SUN', from: D, extension: ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'] },
  { source: 'extension: L, the last day of the month', expression: '0 0 L * *', from: D, extension: ['2026-01-31T00:00:00Z', '2026-02-28T00:00:00Z'] },
  { source: 'extension: 5L, the last Friday', expression: '0 0 * * 5L', from: D, extension: ['2026-01-30T00:00:00Z', '2026-02-27T00:00:00Z'] },
  { source: 'extension: 1#2, the second Monday', expression: '0 0 * * 1#2', from: D, extension: ['2026-01-12T00:00:00Z', '2026-02-09T00:00:00Z'] },
  { source: 'extension: 15W, the weekday nearest the 15th', expression: '0 0 15W * *', from: D, extension: ['2026-01-15T00:00:00Z', '2026-02-16T00:00:00Z'] },
  { source: 'extension: + before a weekday name: AND (Friday the 13th)', expression: '0 0 13 * +FRI', from: D, extension: ['2026-02-13T00:00:00Z', '2026-03-13T00:00:00Z'] },
  { source: 'extension: descriptors in any case', expression: '@DAILY', from: D, extension: ['2026-01-01T00:00:00Z'] },
  { source: 'extension: ParseStandard takes no seconds field', expression: '*/20 * * * * *', from: D, extension: ['2025-12-31T12:00:20Z', '2025-12-31T12:00:40Z'] },
];



const iso = (times: readonly string[]): string[] => times.map((t) => new Date(Date.parse(t)).toISOString());
const title = (r: Row): string => `${r.source}: ${JSON.stringify(r.expression)}`;

describe('robfig/cron v3 conformance', () => {
  it('should hold every kind of case', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(150);
    for (const kind of ['times', 'fires', 'rejected', 'extension', 'differs']) expect(ROWS.some((r) => kind in r), kind).toBe(true);
  });

  it.each(ROWS.filter((r) => 'times' in r).map((r) => [title(r), r] as const))('should fire as robfig does: %s', (_title, row) => {
    if (!('times' in row)) return;
    const s = compile(row.expression, row.zone ?? 'UTC');
    expect(runs(s, row.from, row.times.length)).toEqual(iso(row.times));
    // ADR 2 is the only reason to differ, and only in a zone with DST
    if (row.robfig !== undefined) expect(s.timezone).not.toBe('UTC');
  });

  it.each(ROWS.filter((r) => 'fires' in r).map((r) => [title(r), r] as const))('should activate as robfig does: %s', (_title, row) => {
    if (!('fires' in row)) return;
    const at = Date.parse(row.at);
    expect(compile(row.expression, row.zone ?? 'UTC').next(at - 1000) === at).toBe(row.fires);
  });

  it.each(ROWS.filter((r) => 'rejected' in r).map((r) => [title(r), r] as const))('should reject what robfig rejects: %s', (_title, row) => {
    if (!('rejected' in row)) return;
    const r = compileSchedule(row.expression, 'UTC');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(row.rejected);
  });

  it.each(ROWS.filter((r) => 'extension' in r).map((r) => [title(r), r] as const))('should keep the croner extension: %s', (_title, row) => {
    if (!('extension' in row)) return;
    expect(runs(compile(row.expression, row.zone ?? 'UTC'), row.from, row.extension.length)).toEqual(iso(row.extension));
  });

  it.each(ROWS.filter((r) => 'differs' in r).map((r) => [title(r), r] as const))('should reject, saying why, what robfig accepts but cannot run as written: %s', (_title, row) => {
    if (!('differs' in row)) return;
    const r = compileSchedule(row.expression, 'UTC');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(row.differs);
  });
});

/**
 * robfig's semantics, independently of src/schedule/robfig.ts's croner rewriting: each field a set
 * plus the star bit, days matched with dayMatches() (AND when either day field has the star bit,
 * else OR), the next time found by walking days. UTC only (DST is ADR 2's).
 */
interface Reference {
  readonly fields: ReadonlyArray<ReadonlySet<number>>;
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

const NAMES: ReadonlyArray<Readonly<Record<string, number>> | undefined> = [
  undefined,
  undefined,
  undefined,
  undefined,
  { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
  { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 },
];
/** second, minute, hour, day-of-month, month, day-of-week */
const BOUNDS: ReadonlyArray<readonly [number, number]> = [[0, 59], [0, 59], [0, 23], [1, 31], [1, 12], [0, 6]];

function referenceOf(expression: string): Reference {
  const parts = expression.split(' ');
  const six = parts.length === 6 ? parts : ['0', ...parts];
  const stars: boolean[] = [];
  const fields = six.map((field, f) => {
    const [min, max] = BOUNDS[f] as readonly [number, number];
    const num = (t: string): number => NAMES[f]?.[t.toLowerCase()] ?? Number(t);
    const set = new Set<number>();
    let star = false;
    for (const item of field.split(',').filter((i) => i !== '')) {
      const [range = '', stepText] = item.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      const bounds = range.split('-');
      const isStar = bounds[0] === '*' || bounds[0] === '?';
      const lo = isStar ? min : num(bounds[0] as string);
      const hi = isStar ? max : bounds.length === 2 ? num(bounds[1] as string) : stepText === undefined ? lo : max;
      if (isStar && step <= 1) star = true;
      for (let v = lo; v <= hi; v += step) set.add(v);
    }
    stars.push(star);
    return set;
  });
  return { fields, domStar: stars[3] === true, dowStar: stars[5] === true };
}

function referenceNext(ref: Reference, afterMs: number): number | undefined {
  const [seconds, minutes, hours, dom, months, dow] = ref.fields.map((s) => [...s].sort((a, b) => a - b)) as [number[], number[], number[], number[], number[], number[]];
  const start = Math.floor(afterMs / 1000) * 1000 + 1000;
  let day = Math.floor(start / 86_400_000) * 86_400_000;
  for (let i = 0; i < 366 * 6; i++, day += 86_400_000) {
    const date = new Date(day);
    if (!months.includes(date.getUTCMonth() + 1)) continue;
    const domMatch = dom.includes(date.getUTCDate());
    const dowMatch = dow.includes(date.getUTCDay());
    if (ref.domStar || ref.dowStar ? !(domMatch && dowMatch) : !(domMatch || dowMatch)) continue;
    const from = Math.max(0, (start - day) / 1000);
    for (const h of hours) {
      if (h * 3600 + 3599 < from) continue;
      for (const m of minutes) {
        if (h * 3600 + m * 60 + 59 < from) continue;
        for (const s of seconds) if (h * 3600 + m * 60 + s >= from) return day + (h * 3600 + m * 60 + s) * 1000;
      }
    }
  }
  return undefined;
}

/** A seeded generator of robfig-valid fields: numbers, names, ranges, steps, N/step, * and ?, lists. */
function generator(seed: number): (field: number) => string {
  let state = seed;
  const random = (n: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
  const pick = <T>(xs: readonly T[]): T => xs[random(xs.length)] as T;
  return (f) => {
    const [min, max] = BOUNDS[f] as readonly [number, number];
    const names = NAMES[f];
    const value = (): string => {
      const v = min + random(max - min + 1);
      const name = names === undefined ? undefined : Object.keys(names).find((k) => names[k] === v);
      const styles = [String(v), `0${v}`, `+${v}`, ...(name === undefined ? [] : [name, name.toUpperCase()])];
      return pick(styles);
    };
    const item = (): string => {
      const step = 1 + random(max - min + 3);
      switch (random(9)) {
        case 0:
          return pick(['*', '?']);
        case 1:
          return `${pick(['*', '?'])}/${step}`;
        case 2:
          return value();
        case 3:
        case 4: {
          const a = min + random(max - min + 1);
          const b = a + random(max - a + 1);
          return random(2) === 0 ? `${a}-${b}` : `${a}-${b}/${step}`;
        }
        case 5:
          return `${value()}/${step}`;
        default:
          return value();
      }
    };
    if (random(6) === 0) return pick(['*', '?']);
    const count = 1 + random(3);
    const items = Array.from({ length: count }, item);
    if (random(10) === 0) items.push('');
    return items.join(',');
  };
}

describe('robfig/cron v3 semantics on generated expressions', () => {
  it('should fire where a reference implementation of robfig fires, for 400 expressions of 5 and 6 fields', () => {
    const field = generator(20_260_101);
    const mismatches: string[] = [];
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const six = i % 4 === 0;
      const expression = (six ? [0, 1, 2, 3, 4, 5] : [1, 2, 3, 4, 5]).map(field).join(' ');
      const ref = referenceOf(expression);
      const result = compileSchedule(expression, 'UTC');
      let t = Date.parse('2026-01-01T00:00:00Z') + i * 7_777_777_000;
      if (!result.ok) {
        // the only robfig-valid expressions we reject are those that never fire
        if (referenceNext(ref, t) !== undefined || !/never fires/.test(result.reason)) mismatches.push(`${expression}: ${result.reason}`);
        continue;
      }
      for (let k = 0; k < 4; k++) {
        const expected = referenceNext(ref, t);
        const actual = result.schedule.next(t);
        if (actual !== expected) {
          mismatches.push(`${expression} after ${new Date(t).toISOString()}: ${String(actual && new Date(actual).toISOString())} != ${String(expected && new Date(expected).toISOString())}`);
          break;
        }
        compared++;
        if (expected === undefined) break;
        t = expected;
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(1000);
  });

  it('should give @every slots at whole multiples of the interval since the epoch, newest first backwards', () => {
    for (const [expression, seconds] of [['@every 1s', 1], ['@every 90s', 90], ['@every 7m', 420], ['@every 1h30m', 5400], ['@every 25h', 90_000], ['@every 8760h', 31_536_000]] as const) {
      const s = compile(expression, 'Europe/London');
      const period = seconds * 1000;
      for (const t of [0, 1, 999, 1000, 1_767_225_599_999, 1_767_225_600_000, 1_767_225_600_001, 1_800_000_000_123]) {
        const next = s.next(t) as number;
        expect(next % period, `${expression} after ${t}`).toBe(0);
        expect(next > t && next - t <= period, `${expression} after ${t}`).toBe(true);
        const previous = s.previous(3, t);
        expect(previous[0]! <= t && t - previous[0]! < period, `${expression} at ${t}`).toBe(true);
        expect(previous).toEqual([previous[0]!, previous[0]! - period, previous[0]! - 2 * period]);
        expect(s.next(previous[0]!)).toBe(previous[0]! + period);
      }
    }
  });
});

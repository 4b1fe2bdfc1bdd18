// Writes chart/cron-connector/files/timezones.txt: the time zone names the connector accepts, one
// a line, so that the chart refuses at install time a `timezone` the connector would refuse at
// start-up. The connector accepts whatever Intl.DateTimeFormat accepts (src/config.ts
// isValidTimezone): IANA names and their aliases, in any case, and UTC offsets (the chart checks
// offsets with a pattern, not with this list).
//
// Candidates are the names Intl lists (canonical names only) plus, when present, the names under
// /usr/share/zoneinfo (aliases such as US/Pacific or Asia/Calcutta), each kept only when
// isValidTimezone accepts it. Run it with the project's Node.js (npm scripts use it), whose ICU is
// the one the image ships.
//
//   node scripts/timezones.ts           write the file
//   node scripts/timezones.ts --check   exit 1 when a name Intl lists is missing, or a listed name
//                                       is no longer accepted
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidTimezone } from '../src/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const timezonesPath = path.join(root, 'chart', 'cron-connector', 'files', 'timezones.txt');
export const zoneinfoDir = '/usr/share/zoneinfo';

/** The canonical zone names of this Node.js's ICU. */
export function intlTimezones(): string[] {
  return Intl.supportedValuesOf('timeZone');
}

/**
 * Zone names found as files or links under a zoneinfo directory, relative to it; none when the
 * directory does not exist. posix/ and right/ are skipped: they repeat every name with a prefix
 * that Intl refuses.
 */
export function zoneinfoNames(dir: string = zoneinfoDir): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) continue;
    const name = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (name.startsWith('posix/') || name.startsWith('right/')) continue;
    names.push(name);
  }
  return names;
}

/**
 * The accepted names among `candidates`, sorted, each once whatever its case (the first spelling
 * seen is kept: pass Intl's names first).
 */
export function timezoneList(candidates: Iterable<string>): string[] {
  const byKey = new Map<string, string>();
  for (const name of candidates) {
    const key = name.toLowerCase();
    if (name === '' || name.trim() !== name || byKey.has(key) || !isValidTimezone(name)) continue;
    byKey.set(key, name);
  }
  return [...byKey.values()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The file's text: one name a line, no comments (every line is a name the chart accepts). */
export function formatTimezones(names: readonly string[]): string {
  return `${names.join('\n')}\n`;
}

export function parseTimezones(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** What the file should hold: Intl's names plus those already listed, checked again. */
export function checkedTimezones(committed: readonly string[]): string {
  return formatTimezones(timezoneList([...intlTimezones(), ...committed]));
}

function main(argv: readonly string[]): number {
  if (argv.includes('--check')) {
    const text = readFileSync(timezonesPath, 'utf8');
    if (checkedTimezones(parseTimezones(text)) !== text) {
      console.error(`${path.relative(root, timezonesPath)} is out of step with Intl: run node scripts/timezones.ts`);
      return 1;
    }
    console.log(`${path.relative(root, timezonesPath)} lists every zone Intl lists, and only accepted names`);
    return 0;
  }
  const names = timezoneList([...intlTimezones(), ...zoneinfoNames()]);
  writeFileSync(timezonesPath, formatTimezones(names));
  console.log(`wrote ${String(names.length)} names to ${path.relative(root, timezonesPath)}`);
  return 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

/**
 * Parses Go `time.Duration` strings (`2h`, `5s`, `1h30m`, `1.5h`, `300ms`) as used by
 * `JwtIssuer.spec.tokenExpiry`. src/duration.ts parses the same syntax for the connector's own
 * settings; the emulator keeps its own parser on purpose, so it never shares code (or a bug)
 * with what it tests.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Returns the duration in milliseconds; throws on anything Go's `time.ParseDuration` would reject. */
export function parseGoDuration(text: string): number {
  const negative = text.startsWith('-');
  const body = text.replace(/^[+-]/, '');
  if (body === '0') return 0;
  if (body === '') throw invalid(text);
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < body.length) {
    const match = TERM.exec(body);
    if (match === null) throw invalid(text);
    const [, amount = '', unit = ''] = match;
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  }
  if (!Number.isFinite(total)) throw invalid(text);
  return negative ? -total : total;
}

function invalid(text: string): Error {
  return new Error(`time: invalid duration ${JSON.stringify(text)}`);
}

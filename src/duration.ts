/**
 * Go-style durations (time.ParseDuration): "500ms", "10s", "1m", "1h30m", "1.5h", "0".
 * Units: ns, us (µs), ms, s, m, h. Returns milliseconds, or undefined when unparsable.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '' || input.startsWith('-')) return undefined;
  const body = input.startsWith('+') ? input.slice(1) : input;
  if (body === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < body.length) {
    const start = PART.lastIndex;
    const match = PART.exec(body);
    if (match === null || match.index !== start) return undefined;
    const [, amount = '', unit = ''] = match;
    total += Number(amount) * (UNIT_MS[unit] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Formats milliseconds the way Go prints a time.Duration: "1h2m3s", "250ms", "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${trim(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  let out = '';
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  return `${out}${trim(seconds)}s`;
}

function trim(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

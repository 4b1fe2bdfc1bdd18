/**
 * An instant as wall-clock time in an IANA zone, with that zone's UTC offset at that instant:
 * what a user reads on a clock in that zone. Pure; the offset is computed from the local fields,
 * so it does not depend on how the ICU build names offsets.
 */
export interface ZonedTime {
  /** `2026-03-29 02:00:00` */
  readonly local: string;
  /** `+01:00`, `-04:00`, `+00:00` (`+05:45`, and seconds only for historical offsets) */
  readonly offset: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `+01:00` for 3 600 000 ms. */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const total = Math.round(Math.abs(offsetMs) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${sign}${pad(hours)}:${pad(minutes)}${seconds === 0 ? '' : `:${pad(seconds)}`}`;
}

/** Throws RangeError for an unknown zone (check with isValidTimezone first). */
export function zonedTime(ms: number, zone: string): ZonedTime {
  const whole = Math.floor(ms / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(whole))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const [year = 0, month = 1, day = 1] = [fields.year, fields.month, fields.day];
  const [hour = 0, minute = 0, second = 0] = [fields.hour, fields.minute, fields.second];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  return {
    local: `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}`,
    offset: formatOffset(asUtc - whole),
  };
}

/** Small human formats shared by the sub-commands. Pure. */

/** `1h52m`, `4m10s`, `35s`: a time left, rounded down, for people. */
export function formatTimeLeft(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return minutes === 0 ? `${hours}h` : `${hours}h${minutes}m`;
  if (minutes > 0) return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** `expires in 1h52m` or `expired 3m ago`. */
export function describeExpiry(expMs: number, now: number): string {
  return expMs > now ? `expires in ${formatTimeLeft(expMs - now)}` : `expired ${formatTimeLeft(now - expMs)} ago`;
}

/** `1 function`, `2 functions` */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `[a, b]` */
export function bracketList(items: readonly string[]): string {
  return `[${items.join(', ')}]`;
}

/** `a, b, c and 4 more` */
export function shortList(items: readonly string[], max = 12): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/**
 * `new Date(ms).toISOString()` with a one-entry memo. On the invocation hot path every function
 * of a slot formats the same instant (its nominal time, in a header and a log line) and every log
 * line of one millisecond the same time stamp: thousands of identical strings per burst.
 */
export function isoMemo(): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString();
    }
    return last;
  };
}

/** Small string checks shared by configuration and annotation parsing. */

/** True when `value` holds a C0 control character or DEL (they would break a header or a log line). */
export function hasControlCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return true;
  }
  return false;
}

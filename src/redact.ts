/**
 * Secrets by shape. Nothing the connector writes should ever hold a token or a password; these
 * patterns are the second line of defence, for text that comes from outside (an error body, an
 * error message) and for every field of every log line (src/log.ts).
 */

/** Field names whose values are always secret, compared case-insensitively and without - or _. */
const SECRET_KEYS = new Set(['authorization', 'proxyauthorization', 'token', 'accesstoken', 'subjecttoken', 'idtoken', 'refreshtoken', 'password', 'secret', 'cookie', 'setcookie']);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}

/**
 * A JWT (three base64url parts, the first a JSON object: "eyJ…"), or the credentials of an
 * Authorization header ("Bearer …", "Basic …").
 */
const SECRET_SHAPES = /eyJ[\w-]*\.[\w-]*\.[\w-]*|\b(?:Bearer|Basic)\s+[\w+/=.~-]+/gi;

export const REDACTED = '[REDACTED]';

const MAYBE_SECRET = /eyJ|bearer|basic/i;

/** `text` with every token- or credential-shaped part replaced by [REDACTED]. */
export function scrubSecrets(text: string): string {
  // one cheap scan first: most text holds neither shape (every log field passes here)
  if (!MAYBE_SECRET.test(text)) return text;
  return text.replace(SECRET_SHAPES, REDACTED);
}

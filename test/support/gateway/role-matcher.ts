/**
 * Role matching, as documented for OpenFaaS IAM: the principal (if given) must match one of its
 * values, and every condition must hold. `jwt:<claim>` keys look up top-level claims of the
 * subject token; array claims match when any element does.
 */
import type { JWTPayload } from 'jose';
import { globMatches } from './glob.ts';
import type { ClaimValues, RoleSpec } from './iam-types.ts';

type ValueMatcher = (accepted: string, actual: string) => boolean;

const exact: ValueMatcher = (accepted, actual) => accepted === actual;
const like: ValueMatcher = (accepted, actual) => globMatches(accepted, actual);

export function roleMatches(role: RoleSpec, claims: JWTPayload): boolean {
  return (
    allKeysMatch(role.principal, claims, exact) &&
    allKeysMatch(role.condition?.StringEqual, claims, exact) &&
    allKeysMatch(role.condition?.StringLike, claims, like)
  );
}

/** Policy names of all roles matching `claims`, deduplicated, in role order. */
export function policiesForClaims(roles: readonly RoleSpec[], claims: JWTPayload): string[] {
  const names = roles.filter((role) => roleMatches(role, claims)).flatMap((role) => role.policy);
  return [...new Set(names)];
}

function allKeysMatch(values: ClaimValues | undefined, claims: JWTPayload, matches: ValueMatcher): boolean {
  return Object.entries(values ?? {}).every(([key, accepted]) => {
    const actual = claimStrings(claims, key.slice('jwt:'.length));
    return accepted.some((value) => actual.some((claim) => matches(value, claim)));
  });
}

function claimStrings(claims: JWTPayload, name: string): string[] {
  const value = claims[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter(isScalar).map(String);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

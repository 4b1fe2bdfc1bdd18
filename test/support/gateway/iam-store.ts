/** Runtime-mutable IAM state: JwtIssuers, Policies and Roles, validated like the CRD schemas would. */
import { parseGoDuration } from './go-duration.ts';
import type { ClaimValues, JwtIssuerSpec, PolicySpec, RoleSpec } from './iam-types.ts';

export interface StoredJwtIssuer extends JwtIssuerSpec {
  name: string;
  /** `tokenExpiry` in whole seconds, when set. */
  tokenExpirySeconds?: number;
}

export class IamStore {
  readonly #issuers = new Map<string, StoredJwtIssuer>();
  readonly #policies = new Map<string, PolicySpec>();
  readonly #roles = new Map<string, RoleSpec>();

  addJwtIssuer(name: string, spec: JwtIssuerSpec): void {
    requireText(spec.iss, `JwtIssuer ${name}: iss`);
    requireNonEmptyList(spec.aud, `JwtIssuer ${name}: aud`);
    const stored: StoredJwtIssuer = { name, ...spec, aud: [...spec.aud] };
    if (spec.tokenExpiry !== undefined) stored.tokenExpirySeconds = tokenExpirySeconds(name, spec.tokenExpiry);
    this.#issuers.set(name, stored);
  }

  removeJwtIssuer(name: string): void {
    this.#issuers.delete(name);
  }

  /** The registered issuer whose `iss` equals `iss`, if any. */
  issuerFor(iss: string): StoredJwtIssuer | undefined {
    return [...this.#issuers.values()].find((issuer) => issuer.iss === iss);
  }

  setPolicy(name: string, spec: PolicySpec): void {
    requireNonEmptyList(spec.statement, `Policy ${name}: statement`);
    for (const statement of spec.statement) {
      if (statement.effect !== 'Allow') throw new Error(`Policy ${name}: effect must be Allow`);
      requireNonEmptyList(statement.action, `Policy ${name}: action`);
      requireNonEmptyList(statement.resource, `Policy ${name}: resource`);
    }
    this.#policies.set(name, structuredClone(spec));
  }

  deletePolicy(name: string): void {
    this.#policies.delete(name);
  }

  policy(name: string): PolicySpec | undefined {
    return this.#policies.get(name);
  }

  setRole(name: string, spec: RoleSpec): void {
    requireNonEmptyList(spec.policy, `Role ${name}: policy`);
    requireJwtKeys(spec.principal, `Role ${name}: principal`);
    requireJwtKeys(spec.condition?.StringEqual, `Role ${name}: condition.StringEqual`);
    requireJwtKeys(spec.condition?.StringLike, `Role ${name}: condition.StringLike`);
    this.#roles.set(name, structuredClone(spec));
  }

  deleteRole(name: string): void {
    this.#roles.delete(name);
  }

  roles(): RoleSpec[] {
    return [...this.#roles.values()];
  }
}

function tokenExpirySeconds(issuer: string, tokenExpiry: string): number {
  const seconds = Math.floor(parseGoDuration(tokenExpiry) / 1000);
  if (seconds < 1) throw new Error(`JwtIssuer ${issuer}: tokenExpiry must be at least 1s, got ${tokenExpiry}`);
  return seconds;
}

function requireText(value: string, what: string): void {
  if (typeof value !== 'string' || value === '') throw new Error(`${what} must be a non-empty string`);
}

function requireNonEmptyList(value: readonly unknown[], what: string): void {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${what} must be a non-empty array`);
}

function requireJwtKeys(values: ClaimValues | undefined, what: string): void {
  for (const [key, accepted] of Object.entries(values ?? {})) {
    if (!key.startsWith('jwt:')) throw new Error(`${what}: key ${key} must start with "jwt:"`);
    requireNonEmptyList(accepted, `${what}: ${key}`);
  }
}

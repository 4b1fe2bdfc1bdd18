/** The OpenFaaS IAM objects (`iam.openfaas.com/v1` CRD specs) as the emulator stores them. */
import type { JSONWebKeySet } from 'jose';

/** A JWKS, or a function returning the issuer's current JWKS (undefined: keys could not be fetched). */
export type JwksSource = JSONWebKeySet | (() => JSONWebKeySet | undefined);

export interface JwtIssuerSpec {
  iss: string;
  aud: string[];
  /** Go duration, e.g. `2h` or `5s`: lifetime of OpenFaaS tokens issued for this issuer's tokens. */
  tokenExpiry?: string;
  jwks: JwksSource;
}

export interface PolicyStatement {
  sid: string;
  effect: 'Allow';
  /** e.g. `Function:List`, `Function:*`, `*`. */
  action: string[];
  /** `*` (cluster-wide) or `<namespace>:*`. */
  resource: string[];
}

export interface PolicySpec {
  statement: PolicyStatement[];
}

/** Keys are `jwt:<claim>`, values the accepted values. */
export type ClaimValues = Record<string, string[]>;

export interface RoleCondition {
  StringEqual?: ClaimValues;
  StringLike?: ClaimValues;
}

export interface RoleSpec {
  policy: string[];
  principal?: ClaimValues;
  condition?: RoleCondition;
}

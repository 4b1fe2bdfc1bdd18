/**
 * The doctor's report: an ordered list of checks and what discovery found. This is the --json
 * document; its shape is stable (fields are only ever added):
 *   { version, ok, gateway?, auth?, checks: [Check], token?, policies?, namespaces: [NamespaceReport] }
 * It never holds a token, a signature, a password or an Authorization header.
 */
import type { Diagnosis as CauseAndFix } from '../../diagnosis.ts';

/** function-token is reported only when jwt_auth is on, leader-election only when leader_election is on. */
export const CHECK_NAMES = ['configuration', 'projected-token', 'token-exchange', 'namespaces', 'functions', 'schedules', 'function-token', 'leader-election'] as const;

/** The checks a configuration turns on; not reported when the configuration is invalid. */
export const OPTIONAL_CHECKS: readonly CheckName[] = ['function-token', 'leader-election'];

export type CheckName = (typeof CHECK_NAMES)[number];

/** pass: works; warn: works, with something to look at; fail: broken; skip: not applicable or not reachable. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Check {
  readonly name: CheckName;
  readonly status: CheckStatus;
  /** false only for status fail. */
  readonly ok: boolean;
  /** One line: what was found. */
  readonly summary: string;
  /** More lines worth reading (per namespace, per function, fields to check). */
  readonly details?: readonly string[];
  /** The error code (E_TOKEN_FILE, E_TOKEN_EXCHANGE, E_GATEWAY_HTTP, …) when a call failed. */
  readonly code?: string;
  /** The likely cause, for warn and fail. */
  readonly cause?: string;
  /** What to do about it, for warn and fail. */
  readonly fix?: string;
}

/** A cause and fix (src/diagnosis.ts) with the error code of the failed call, when there was one. */
export type Diagnosis = CauseAndFix & { readonly code?: string };

export interface ScheduleReport {
  readonly expression: string;
  /** The next fire time, RFC 3339 UTC. */
  readonly next: string | null;
}

export interface FunctionReport {
  /** `<name>.<namespace>`, as in the connector's logs. */
  readonly function: string;
  readonly name: string;
  /** scheduled: the connector would schedule it; rejected: selected but unschedulable; ignored: no matching topic. */
  readonly status: 'scheduled' | 'rejected' | 'ignored';
  readonly timezone?: string;
  readonly schedules?: readonly ScheduleReport[];
  /** Why a selected function cannot be scheduled. */
  readonly reason?: string;
}

export interface NamespaceReport {
  readonly name: string;
  /** listed; forbidden (403) and not-found (404) are skipped by the connector; failed: any other error. */
  readonly status: 'listed' | 'forbidden' | 'not-found' | 'failed';
  readonly error?: string;
  readonly functions: readonly FunctionReport[];
}

/**
 * Claims of the ServiceAccount token: never the token or its signature. token_source=file: `file`;
 * token_source=kubernetes: `source: 'kubernetes'` and the `serviceAccount` it was minted for.
 */
export interface TokenReport {
  readonly file?: string;
  readonly source?: 'kubernetes';
  /** `<namespace>/<name>` (token_source=kubernetes). */
  readonly serviceAccount?: string;
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: readonly string[];
  /** RFC 3339 UTC */
  readonly expiresAt?: string;
}

export interface DoctorReport {
  readonly version: string;
  readonly ok: boolean;
  readonly gateway?: string;
  readonly auth?: 'iam' | 'basic' | 'none';
  readonly checks: readonly Check[];
  readonly token?: TokenReport;
  /** Policy names carried by the access token (IAM mode). */
  readonly policies?: readonly string[];
  readonly namespaces: readonly NamespaceReport[];
}

interface CheckExtra {
  readonly details?: readonly string[] | undefined;
  readonly code?: string | undefined;
  readonly cause?: string | undefined;
  readonly fix?: string | undefined;
}

export function check(name: CheckName, status: CheckStatus, summary: string, extra: CheckExtra = {}): Check {
  return {
    name,
    status,
    ok: status !== 'fail',
    summary,
    ...(extra.details === undefined || extra.details.length === 0 ? {} : { details: extra.details }),
    ...(extra.code === undefined ? {} : { code: extra.code }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
    ...(extra.fix === undefined ? {} : { fix: extra.fix }),
  };
}

export function failed(name: CheckName, summary: string, diagnosis: Diagnosis, status: CheckStatus = 'fail'): Check {
  return check(name, status, summary, diagnosis);
}

export function skipped(name: CheckName, why: string): Check {
  return check(name, 'skip', `skipped: ${why}`);
}

/**
 * jwt_auth=true (IAM mode): whether the connector's ServiceAccount token can be exchanged for a
 * per-function token (scope=function, audience <namespace>:<name>; the gateway checks
 * Function:Invoke), for one function discovery selected, with the daemon's own exchange
 * (exchangeFunctionToken, as FunctionTokens asks for every token). No function is invoked and the
 * token is never printed: only its audience and expiry.
 */
import type { Dispatcher } from 'undici';
import { exchangeFunctionToken, functionAudience } from '../../auth/function-tokens.ts';
import { tokenTimes } from '../../auth/iam.ts';
import { decodeClaims, type ProjectedToken } from '../../auth/token-file.ts';
import { functionTokenRefusal, type FunctionTarget } from '../../diagnosis.ts';
import { TokenExchangeError, describeError } from '../../errors.ts';
import { bracketList, describeExpiry, plural } from '../format.ts';
import { diagnosisOf } from './diagnose.ts';
import { check, failed, skipped, type Check, type Diagnosis, type NamespaceReport } from './report.ts';
import type { IamAuth } from './token-check.ts';

export interface FunctionTokenStep {
  readonly dispatcher: Dispatcher;
  readonly auth: IamAuth;
  /** The ServiceAccount token the token-exchange check exchanged. */
  readonly token: ProjectedToken;
  readonly timeoutMs: number;
  readonly now: () => number;
}

export type FunctionPick = { readonly ok: true; readonly target: FunctionTarget; readonly scheduled: number } | { readonly ok: false; readonly why: string };

/**
 * The function to try: the first scheduled function (by name) of the first namespace that was
 * listed, in the gateway's order. Functions that cannot be scheduled are never invoked, so they
 * are not tried.
 */
export function pickFunction(namespaces: readonly NamespaceReport[], topic: string): FunctionPick {
  const listed = namespaces.filter((n) => n.status === 'listed');
  if (namespaces.length === 0) return { ok: false, why: 'no function to try: no namespace is visible' };
  if (listed.length === 0) return { ok: false, why: 'no function to try: no namespace could be listed' };
  const scheduled = listed.flatMap((n) => n.functions.filter((f) => f.status === 'scheduled').map((f) => ({ namespace: n.name, name: f.name })));
  const first = scheduled[0];
  if (first === undefined) return { ok: false, why: `no function to try: none with topic ${topic} can be scheduled` };
  return { ok: true, target: first, scheduled: scheduled.length };
}

function tried(target: FunctionTarget, scheduled: number): string {
  return `tried ${target.name}.${target.namespace} (namespace ${target.namespace}), the first of ${plural(scheduled, 'scheduled function')}; no function was invoked`;
}

function refusalOf(err: unknown, step: FunctionTokenStep, target: FunctionTarget): Diagnosis {
  if (err instanceof TokenExchangeError && err.status !== undefined && err.description !== undefined) {
    const context = { claims: step.token.claims, systemIssuer: step.auth.systemIssuer };
    return { code: err.code, ...functionTokenRefusal(err.description, context, target, err.status, err.oauthError) };
  }
  return diagnosisOf(err, new URL(step.auth.tokenUrl));
}

export async function checkFunctionToken(step: FunctionTokenStep, pick: FunctionPick): Promise<Check> {
  if (!pick.ok) return skipped('function-token', pick.why);
  const { target } = pick;
  const fn = `${target.name}.${target.namespace}`;
  const audience = functionAudience(target.namespace, target.name);
  const exchange = { dispatcher: step.dispatcher, tokenUrl: step.auth.tokenUrl, systemIssuer: step.auth.systemIssuer, timeoutMs: step.timeoutMs };
  try {
    const issued = await exchangeFunctionToken(exchange, step.token, target.namespace, target.name);
    const now = step.now();
    const { expiresAt } = tokenTimes(issued, now);
    const aud = decodeClaims(issued.accessToken).aud ?? [audience];
    const summary = `per-function token for ${fn}: audience ${bracketList(aud)}, ${describeExpiry(expiresAt, now)}`;
    return check('function-token', 'pass', summary, {
      details: [tried(target, pick.scheduled), `scope function, audience ${audience}, from ${step.auth.tokenUrl}; policies ${bracketList(issued.policies)}`],
    });
  } catch (err) {
    const diagnosis = refusalOf(err, step, target);
    const why = err instanceof TokenExchangeError ? (err.description ?? err.message) : describeError(err);
    return failed('function-token', `cannot mint a per-function token for ${fn}: ${why}`, {
      ...diagnosis,
      details: [tried(target, pick.scheduled), ...(diagnosis.details ?? [])],
    });
  }
}

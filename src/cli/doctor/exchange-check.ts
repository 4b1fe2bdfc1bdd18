/**
 * Step 3 (IAM mode): the RFC 8693 exchange, with the daemon's exchangeToken. The access token
 * stays in memory for discovery and is never printed.
 */
import type { Dispatcher } from 'undici';
import { exchangeToken } from '../../auth/exchange.ts';
import { tokenTimes } from '../../auth/iam.ts';
import type { ProjectedToken } from '../../auth/token-file.ts';
import { TokenExchangeError, describeError } from '../../errors.ts';
import { bracketList, describeExpiry } from '../format.ts';
import { diagnosisOf } from './diagnose.ts';
import { check, type Check } from './report.ts';
import type { IamAuth } from './token-check.ts';

export interface ExchangeOutcome {
  readonly check: Check;
  /** The access token, for discovery only. */
  readonly accessToken?: string;
  readonly policies?: readonly string[];
}

export interface ExchangeStep {
  readonly dispatcher: Dispatcher;
  readonly auth: IamAuth;
  readonly token: ProjectedToken;
  readonly timeoutMs: number;
  readonly now: () => number;
}

function failureSummary(err: unknown): string {
  if (err instanceof TokenExchangeError) return err.description ?? err.message;
  return describeError(err);
}

export async function checkExchange(step: ExchangeStep): Promise<ExchangeOutcome> {
  const { auth, token } = step;
  try {
    const issued = await exchangeToken(step.dispatcher, {
      tokenUrl: auth.tokenUrl,
      subjectToken: token.token,
      subject: token.claims,
      systemIssuer: auth.systemIssuer,
      timeoutMs: step.timeoutMs,
    });
    const now = step.now();
    const { expiresAt } = tokenTimes(issued, now);
    const summary = `access token for ${token.claims.sub ?? '(no sub)'} from ${auth.tokenUrl}: policies ${bracketList(issued.policies)}, ${describeExpiry(expiresAt, now)}`;
    return { check: check('token-exchange', 'pass', summary), accessToken: issued.accessToken, policies: issued.policies };
  } catch (err) {
    const diagnosis = diagnosisOf(err, new URL(auth.tokenUrl));
    return { check: check('token-exchange', 'fail', failureSummary(err), diagnosis) };
  }
}

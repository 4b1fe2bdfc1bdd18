/**
 * Step 2 (IAM mode): the projected ServiceAccount token. Reads it with the daemon's own reader
 * and reports its claims (iss, sub, aud, exp), never the token or its signature.
 */
import { readProjectedToken, type ProjectedToken, type TokenClaims } from '../../auth/token-file.ts';
import type { AuthConfig } from '../../config.ts';
import { ConnectorError, describeError } from '../../errors.ts';
import { bracketList, describeExpiry } from '../format.ts';
import { exchangeRefusal } from '../../diagnosis.ts';
import { check, type Check, type Diagnosis, type TokenReport } from './report.ts';

export type IamAuth = Extract<AuthConfig, { mode: 'iam' }>;

export interface TokenOutcome {
  readonly check: Check;
  /** Present when the file could be read: the exchange is tried even if a claim looks wrong. */
  readonly token?: ProjectedToken;
  readonly report?: TokenReport;
}

const MOUNT_FIX = 'mount a projected serviceAccountToken volume with path openfaas-token and audience = system_issuer at token_mount_path (the Helm chart does this)';

function unreadable(err: unknown, auth: IamAuth): TokenOutcome {
  if (!(err instanceof ConnectorError)) throw err;
  return {
    check: check('projected-token', 'fail', describeError(err), {
      code: err.code,
      cause: err.diagnosis?.cause ?? `no projected ServiceAccount token at ${auth.tokenFile}`,
      fix: err.diagnosis?.fix ?? MOUNT_FIX,
    }),
  };
}

function claimsSummary(file: string, c: TokenClaims, now: number): string {
  const expiry = c.expMs === undefined ? 'no exp' : describeExpiry(c.expMs, now);
  return `${file}: sub ${c.sub ?? '(none)'}, iss ${c.iss ?? '(none)'}, aud ${bracketList(c.aud ?? [])}, ${expiry}`;
}

/** What is wrong with the claims, most fundamental first. */
export function claimProblems(c: TokenClaims, systemIssuer: string, now: number): Diagnosis[] {
  if (c.sub === undefined && c.iss === undefined && c.expMs === undefined) {
    return [{ cause: 'the file does not hold a JWT (a projected ServiceAccount token has three base64url parts)', fix: MOUNT_FIX }];
  }
  const problems: Diagnosis[] = [];
  if (c.sub === undefined || c.iss === undefined) {
    problems.push({ cause: 'the token has no sub or iss claim: it is not a ServiceAccount token', fix: MOUNT_FIX });
  }
  if (!(c.aud ?? []).includes(systemIssuer)) {
    problems.push({
      cause: `the token's audience ${bracketList(c.aud ?? [])} does not contain system_issuer ${systemIssuer}`,
      fix: exchangeRefusal('audience not valid', { claims: c, systemIssuer }).fix,
    });
  }
  if (c.expMs !== undefined && c.expMs <= now) {
    problems.push({ cause: `the token ${describeExpiry(c.expMs, now)}`, fix: exchangeRefusal('token expired', { claims: c, systemIssuer }).fix });
  }
  return problems;
}

function tokenReport(file: string, c: TokenClaims): TokenReport {
  return {
    file,
    ...(c.iss === undefined ? {} : { iss: c.iss }),
    ...(c.sub === undefined ? {} : { sub: c.sub }),
    ...(c.aud === undefined ? {} : { aud: c.aud }),
    ...(c.expMs === undefined ? {} : { expiresAt: new Date(c.expMs).toISOString() }),
  };
}

export async function checkProjectedToken(auth: IamAuth, now: number): Promise<TokenOutcome> {
  let token: ProjectedToken;
  try {
    token = await readProjectedToken(auth.tokenFile);
  } catch (err) {
    return unreadable(err, auth);
  }
  const claims = token.claims;
  const problems = claimProblems(claims, auth.systemIssuer, now);
  const summary = claimsSummary(auth.tokenFile, claims, now);
  const result =
    problems.length === 0
      ? check('projected-token', 'pass', summary)
      : check('projected-token', 'fail', summary, {
          code: 'E_TOKEN_FILE',
          cause: problems.map((p) => p.cause).join('; '),
          fix: [...new Set(problems.map((p) => p.fix))].join('; '),
        });
  return { check: result, token, report: tokenReport(auth.tokenFile, claims) };
}

/**
 * Step 2 (IAM mode): the ServiceAccount token. token_source=file: reads the projected token with
 * the daemon's own reader; token_source=kubernetes: mints one with the TokenRequest API, with the
 * daemon's own KubeTokenSource. Either way it reports the token's claims (iss, sub, aud, exp),
 * never the token or its signature.
 */
import { KubeTokenSource, TOKEN_REQUEST_TIMEOUT_MS, type TokenRequestClient } from '../../auth/kube-token.ts';
import type { SubjectToken } from '../../auth/subject-token.ts';
import { readProjectedToken, type ProjectedToken, type TokenClaims } from '../../auth/token-file.ts';
import { systemClock } from '../../clock.ts';
import type { AuthConfig, ServiceAccountRef } from '../../config.ts';
import { ConnectorError, describeError } from '../../errors.ts';
import { connectTokenRequest } from '../../kube/token-request.ts';
import { bracketList, describeExpiry } from '../format.ts';
import { exchangeRefusal } from '../../diagnosis.ts';
import { check, type Check, type Diagnosis, type TokenReport } from './report.ts';

export type IamAuth = Extract<AuthConfig, { mode: 'iam' }>;
type FileAuth = Exclude<IamAuth, { tokenSource: 'kubernetes' }>;
type KubeAuth = Extract<IamAuth, { tokenSource: 'kubernetes' }>;

export interface TokenOutcome {
  readonly check: Check;
  /** Present when the file could be read: the exchange is tried even if a claim looks wrong. */
  readonly token?: ProjectedToken;
  readonly report?: TokenReport;
}

const MOUNT_FIX = 'mount a projected serviceAccountToken volume with path openfaas-token and audience = system_issuer at token_mount_path (the Helm chart does this)';

function unreadable(err: unknown, auth: FileAuth): TokenOutcome {
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
  return { file, ...claimsReport(c) };
}

function claimsReport(c: TokenClaims): TokenReport {
  return {
    ...(c.iss === undefined ? {} : { iss: c.iss }),
    ...(c.sub === undefined ? {} : { sub: c.sub }),
    ...(c.aud === undefined ? {} : { aud: c.aud }),
    ...(c.expMs === undefined ? {} : { expiresAt: new Date(c.expMs).toISOString() }),
  };
}

export interface TokenCheckOptions {
  /** token_source=kubernetes: the limit for each Kubernetes API call. */
  readonly timeoutMs?: number;
  /** token_source=kubernetes: the TokenRequest API (default: through the kubeconfig, as the daemon). */
  readonly connect?: () => Promise<TokenRequestClient>;
}

/** The ServiceAccount token of either source (the check keeps its name, projected-token). */
export async function checkProjectedToken(auth: IamAuth, now: number, opts: TokenCheckOptions = {}): Promise<TokenOutcome> {
  if (auth.tokenSource === 'kubernetes') return checkMintedToken(auth, now, opts);
  return checkTokenFile(auth, now);
}

function mintFailed(err: unknown, { namespace, name }: ServiceAccountRef): TokenOutcome {
  const d = err instanceof ConnectorError ? err.diagnosis : undefined;
  return {
    check: check('projected-token', 'fail', describeError(err), {
      code: err instanceof ConnectorError ? err.code : 'E_KUBE_API',
      cause: d?.cause ?? `the TokenRequest for ServiceAccount ${namespace}/${name} failed`,
      fix: d?.fix ?? `check that the kubeconfig reaches the cluster: "kubectl create token ${name} -n ${namespace}" with the same kubeconfig prints a token`,
      details: d?.details,
    }),
  };
}

/** token_source=kubernetes: one token minted with the TokenRequest API, as the daemon mints it. */
async function checkMintedToken(auth: KubeAuth, now: number, opts: TokenCheckOptions): Promise<TokenOutcome> {
  const { namespace, name } = auth.serviceAccount;
  const sa = `${namespace}/${name}`;
  let client: TokenRequestClient;
  try {
    client = await (opts.connect ?? (() => connectTokenRequest(opts.timeoutMs ?? TOKEN_REQUEST_TIMEOUT_MS)))();
  } catch (err) {
    return mintFailed(err, auth.serviceAccount);
  }
  const source = new KubeTokenSource({ serviceAccount: auth.serviceAccount, audience: auth.systemIssuer, clock: systemClock, connect: () => Promise.resolve(client) });
  let token: SubjectToken;
  try {
    token = await source.current();
  } catch (err) {
    return mintFailed(err, auth.serviceAccount);
  } finally {
    source.stop();
  }
  const claims = token.claims;
  const problems = claimProblems(claims, auth.systemIssuer, now);
  if (claims.sub !== undefined && claims.sub !== source.subject) {
    problems.push({
      cause: `the minted token's subject ${claims.sub} is not ${source.subject}`,
      fix: 'check that the kubeconfig points at the cluster whose IAM Role names this ServiceAccount',
    });
  }
  const summary = claimsSummary(`TokenRequest for ServiceAccount ${sa} (${client.credentials})`, claims, now);
  return { check: claimsCheck(summary, problems, 'E_KUBE_API'), token, report: { source: 'kubernetes', serviceAccount: sa, ...claimsReport(claims) } };
}

/** The token step's outcome: pass, or fail with every problem's cause and each distinct fix. */
function claimsCheck(summary: string, problems: readonly Diagnosis[], code: string): Check {
  if (problems.length === 0) return check('projected-token', 'pass', summary);
  return check('projected-token', 'fail', summary, {
    code,
    cause: problems.map((p) => p.cause).join('; '),
    fix: [...new Set(problems.map((p) => p.fix))].join('; '),
  });
}

async function checkTokenFile(auth: FileAuth, now: number): Promise<TokenOutcome> {
  let token: ProjectedToken;
  try {
    token = await readProjectedToken(auth.tokenFile);
  } catch (err) {
    return unreadable(err, auth);
  }
  const claims = token.claims;
  const problems = claimProblems(claims, auth.systemIssuer, now);
  const summary = claimsSummary(auth.tokenFile, claims, now);
  return { check: claimsCheck(summary, problems, 'E_TOKEN_FILE'), token, report: tokenReport(auth.tokenFile, claims) };
}

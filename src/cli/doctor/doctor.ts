/**
 * The doctor's checks, in order: configuration, projected token and token exchange (IAM mode),
 * then discovery, then (jwt_auth=true) one per-function token, then (leader_election=true) the
 * Lease, each with the daemon's own modules. Later steps are skipped, saying why, when
 * an earlier one leaves them nothing to work with. One undici Agent, closed at the end.
 */
import { Agent } from 'undici';
import { noCredentials, type Credentials } from '../../auth/credentials.ts';
import { BasicAuthCredentials } from '../../auth/basic.ts';
import type { ProjectedToken } from '../../auth/token-file.ts';
import type { Config, Env } from '../../config.ts';
import { GatewayClient } from '../../gateway/client.ts';
import { VERSION } from '../../version.ts';
import { checkConfiguration } from './config-check.ts';
import { discover } from './discovery.ts';
import { discoveryChecks } from './discovery-checks.ts';
import { checkExchange } from './exchange-check.ts';
import { checkFunctionToken, pickFunction } from './function-token-check.ts';
import { checkLease } from './lease-check.ts';
import { CHECK_NAMES, OPTIONAL_CHECKS, skipped, type Check, type DoctorReport, type NamespaceReport } from './report.ts';
import { checkProjectedToken } from './token-check.ts';

export interface DoctorDeps {
  readonly env: Env;
  readonly now: () => number;
}

interface Credentialed {
  readonly checks: readonly Check[];
  /** The credentials for discovery, or why discovery cannot run. */
  readonly credentials: Credentials | string;
  readonly extra: Partial<Pick<DoctorReport, 'token' | 'policies'>>;
  /** IAM mode: the ServiceAccount token, once the token exchange passed (for the per-function token); else why not. */
  readonly exchanged: ProjectedToken | string;
}

/** As the daemon's configuration warning says. */
const JWT_AUTH_NEEDS_IAM = 'jwt_auth needs IAM mode (system_issuer is not set): functions are invoked without a per-function token';

function staticBearer(token: string): Credentials {
  return { mode: 'iam', authorization: () => Promise.resolve(`Bearer ${token}`), invalidate: () => undefined, ready: true, stop: () => undefined };
}

async function credentialSteps(config: Config, agent: Agent, now: () => number): Promise<Credentialed> {
  const auth = config.auth;
  if (auth.mode !== 'iam') {
    const why = auth.mode === 'basic' ? 'basic-auth mode (system_issuer is not set)' : 'no-auth mode (system_issuer is not set)';
    const credentials = auth.mode === 'basic' ? new BasicAuthCredentials(auth.secretMountPath) : noCredentials;
    return { checks: [skipped('projected-token', why), skipped('token-exchange', why)], credentials, extra: {}, exchanged: JWT_AUTH_NEEDS_IAM };
  }
  const token = await checkProjectedToken(auth, now(), { timeoutMs: config.rebuildTimeoutMs });
  const report = token.report === undefined ? {} : { token: token.report };
  if (token.token === undefined) {
    const why = auth.tokenSource === 'kubernetes' ? 'no ServiceAccount token (TokenRequest failed)' : 'no projected token';
    return { checks: [token.check, skipped('token-exchange', why)], credentials: 'no access token', extra: report, exchanged: why };
  }
  const exchange = await checkExchange({ dispatcher: agent, auth, token: token.token, timeoutMs: config.rebuildTimeoutMs, now });
  const policies = exchange.policies === undefined ? {} : { policies: exchange.policies };
  const credentials = exchange.accessToken === undefined ? 'no access token' : staticBearer(exchange.accessToken);
  const exchanged = exchange.accessToken === undefined ? 'the token exchange failed' : token.token;
  return { checks: [token.check, exchange.check], credentials, extra: { ...report, ...policies }, exchanged };
}

interface Discovered {
  readonly checks: readonly Check[];
  readonly namespaces: readonly NamespaceReport[];
}

async function discoverySteps(config: Config, agent: Agent, credentials: Credentials | string, now: () => number): Promise<Discovered> {
  if (typeof credentials === 'string') {
    return { checks: [skipped('namespaces', credentials), skipped('functions', credentials), skipped('schedules', credentials)], namespaces: [] };
  }
  const client = new GatewayClient({ gatewayUrl: config.gatewayUrl, credentials, rest: agent, invoke: agent, contentType: config.contentType });
  const found = await discover(client, config.rebuildTimeoutMs);
  const defaults = { topic: config.topic, timezone: config.timezone, async: config.asyncInvocation, retries: config.retries };
  return discoveryChecks(found, { gatewayUrl: config.gatewayUrl, defaults, now: now() });
}

/** jwt_auth=true: one per-function token, for a function discovery selected; nothing when jwt_auth is off. */
async function functionTokenSteps(config: Config, agent: Agent, exchanged: ProjectedToken | string, found: Discovered, now: () => number): Promise<Check[]> {
  if (!config.jwtAuth) return [];
  const auth = config.auth;
  if (auth.mode !== 'iam') return [skipped('function-token', JWT_AUTH_NEEDS_IAM)];
  if (typeof exchanged === 'string') return [skipped('function-token', exchanged)];
  if (found.checks.some((c) => c.name === 'namespaces' && !c.ok)) return [skipped('function-token', 'no function to try: the namespaces could not be listed')];
  const pick = pickFunction(found.namespaces, config.topic);
  return [await checkFunctionToken({ dispatcher: agent, auth, token: exchanged, timeoutMs: config.rebuildTimeoutMs, now }, pick)];
}

type ReportParts = Partial<Pick<DoctorReport, 'gateway' | 'auth' | 'token' | 'policies' | 'namespaces'>>;

/** Assembles the report in its documented field order. */
function finish(checks: readonly Check[], parts: ReportParts = {}): DoctorReport {
  return {
    version: VERSION,
    ok: checks.every((c) => c.ok),
    ...(parts.gateway === undefined ? {} : { gateway: parts.gateway }),
    ...(parts.auth === undefined ? {} : { auth: parts.auth }),
    checks,
    ...(parts.token === undefined ? {} : { token: parts.token }),
    ...(parts.policies === undefined ? {} : { policies: parts.policies }),
    namespaces: parts.namespaces ?? [],
  };
}

/** Runs every check; never throws for what it diagnoses. */
export async function diagnose(deps: DoctorDeps): Promise<DoctorReport> {
  const configured = checkConfiguration(deps.env);
  if (!configured.ok) {
    const later = CHECK_NAMES.slice(1).filter((n) => !OPTIONAL_CHECKS.includes(n));
    return finish([configured.check, ...later.map((n) => skipped(n, 'the configuration is invalid'))]);
  }
  const config = configured.config;
  const agent = new Agent({ connections: 8 });
  try {
    const creds = await credentialSteps(config, agent, deps.now);
    const found = await discoverySteps(config, agent, creds.credentials, deps.now);
    const fnToken = await functionTokenSteps(config, agent, creds.exchanged, found, deps.now);
    const le = config.leaderElection;
    const lease = le === undefined ? [] : [await checkLease(le, Math.min(config.rebuildTimeoutMs, le.renewDeadlineMs), deps.now)];
    return finish([configured.check, ...creds.checks, ...found.checks, ...fnToken, ...lease], {
      gateway: config.gatewayUrl,
      auth: config.auth.mode,
      ...creds.extra,
      namespaces: found.namespaces,
    });
  } finally {
    await agent.close();
  }
}

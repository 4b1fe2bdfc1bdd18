/**
 * From a failed call to its likely cause and fix, following the OpenFaaS IAM troubleshooting
 * guide. The fix reuses the production hints (exchangeHint, networkHint, the errors' own hints),
 * keeping only their action part, so the doctor and the daemon's logs give the same advice.
 */
import { exchangeHint } from '../../auth/exchange.ts';
import type { TokenClaims } from '../../auth/token-file.ts';
import { ConnectorError, GatewayError, TokenExchangeError, describeError } from '../../errors.ts';
import { networkHint } from '../../gateway/http.ts';
import { bracketList } from '../format.ts';
import type { Diagnosis } from './report.ts';

/**
 * The action part of a production hint. Hints read "<what is wrong>: <what to do>" (exchangeHint,
 * statusHint) or "<what is wrong>; <what to do>" (networkHint); a hint without either separator is
 * all action.
 */
export function actionOf(hint: string): string {
  const separators = [hint.indexOf(': '), hint.indexOf('; ')].filter((i) => i > 0);
  if (separators.length === 0) return hint;
  return hint.slice(Math.min(...separators) + 2);
}

export interface ExchangeContext {
  readonly claims: TokenClaims;
  readonly systemIssuer: string;
  readonly tokenUrl: string;
}

interface Refusal {
  readonly match: RegExp;
  readonly cause: (c: ExchangeContext) => string;
  readonly details?: (c: ExchangeContext) => string[];
  /** When the production hint has nothing specific to say. */
  readonly fix?: (c: ExchangeContext) => string;
}

const sub = (c: ExchangeContext): string => c.claims.sub ?? '<sub of the projected token>';
const iss = (c: ExchangeContext): string => c.claims.iss ?? '<iss of the projected token>';

function roleFields(c: ExchangeContext): string[] {
  return [
    `subject (jwt:sub): ${sub(c)}`,
    `issuer (jwt:iss):  ${iss(c)}`,
    'Role fields to check (kubectl get roles.iam.openfaas.com -n openfaas -o yaml):',
    `  spec.principal["jwt:sub"] lists "${sub(c)}"`,
    `  spec.condition.StringEqual["jwt:iss"] lists "${iss(c)}"`,
    '  spec.policy names Policies that exist (kubectl get policies.iam.openfaas.com -n openfaas)',
  ];
}

/** In the order exchangeHint tests them. */
const REFUSALS: readonly Refusal[] = [
  {
    match: /no policies found/i,
    cause: () => 'no IAM Role matches this ServiceAccount (or the Policies its Role names do not exist)',
    details: roleFields,
  },
  {
    match: /issuer not registered|unknown issuer/i,
    cause: (c) => `the projected token's issuer ${iss(c)} is not registered with OpenFaaS as a JwtIssuer`,
    details: (c) => [`a JwtIssuer's spec.iss must equal ${iss(c)} (enabling IAM in the OpenFaaS chart creates the "kubernetes" JwtIssuer)`],
  },
  {
    match: /audience/i,
    cause: (c) => `OpenFaaS is not the intended audience of the projected token: its aud ${bracketList(c.claims.aud ?? [])} is not in the JwtIssuer's aud`,
    details: (c) => [`system_issuer: ${c.systemIssuer}`, 'kubectl get jwtissuer -n openfaas -o yaml (spec.aud)'],
  },
  {
    match: /jwks/i,
    cause: () => 'the oidc-plugin has no valid JWKS keys cached for the issuer (cache out of sync, or it cannot fetch them)',
    details: () => ['look for errors fetching the JWKS keys in: kubectl logs -n openfaas deploy/oidc-plugin'],
  },
  { match: /expired/i, cause: () => 'the projected token has expired' },
  {
    match: /invalid token|signature/i,
    cause: (c) =>
      c.claims.iss === undefined
        ? 'the gateway could not decode the projected token'
        : `the gateway could not verify the projected token with the keys of the JwtIssuer for ${c.claims.iss}`,
    fix: () => 'check the JwtIssuer (kubectl get jwtissuer -n openfaas -o yaml) points at the cluster\'s OIDC keys, then restart the oidc-plugin',
  },
];

function refusal(err: TokenExchangeError, c: ExchangeContext): Diagnosis {
  const description = err.description ?? err.message;
  const hint = err.hint ?? exchangeHint(description, c.claims, c.systemIssuer);
  const rule = REFUSALS.find((r) => r.match.test(description));
  const generic = /see the IAM troubleshooting/.test(hint);
  return {
    code: err.code,
    cause: rule?.cause(c) ?? `the gateway refused the token exchange (${err.status ?? 'no status'}${err.oauthError === undefined ? '' : ` ${err.oauthError}`})`,
    fix: generic && rule?.fix !== undefined ? rule.fix(c) : actionOf(hint),
    ...(rule?.details === undefined ? {} : { details: rule.details(c) }),
  };
}

/** The first system error code in an error's cause chain (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, …). */
export function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof ConnectorError) continue;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR') && code !== 'ABORT_ERR') return code;
  }
  return undefined;
}

function isTls(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO/.test(code);
}

const TLS_DETAILS = [
  'NODE_EXTRA_CA_CERTS is read when the process starts: set it for the connector and for this command',
  'helm: extraVolumes (a ConfigMap holding ca.crt), extraVolumeMounts at /etc/ssl/gateway, extraEnv NODE_EXTRA_CA_CERTS=/etc/ssl/gateway/ca.crt',
];

/** A call that got no HTTP answer: TLS, connection, DNS, timeout. */
export function diagnoseNetwork(err: unknown, url: URL): Diagnosis {
  const code = systemCode(err);
  const errCode = err instanceof ConnectorError ? err.code : undefined;
  const hint = err instanceof ConnectorError && err.hint !== undefined ? err.hint : networkHint(err, url);
  const base = { ...(errCode === undefined ? {} : { code: errCode }), fix: actionOf(hint) };
  if (code !== undefined && isTls(code)) {
    const unknown = !/EXPIRED|ALTNAME/.test(code);
    const what = unknown ? 'is signed by an unknown authority (a private CA or a self-signed certificate)' : 'is not valid';
    const fix = base.fix.includes('NODE_EXTRA_CA_CERTS') ? base.fix : 'if it is signed by a private CA, mount the CA bundle and set NODE_EXTRA_CA_CERTS to its path';
    return { ...base, fix, cause: `the TLS certificate of ${url.host} ${what} (${code})`, details: TLS_DETAILS };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { ...base, cause: `the gateway is unreachable: nothing answers at ${url.origin} (${code})` };
  }
  if (err instanceof GatewayError && err.code === 'E_GATEWAY_TIMEOUT') {
    return { ...base, cause: `${url.origin} did not answer in time (rebuild_timeout)`, fix: 'check the gateway is healthy (kubectl get pods -n openfaas) and its logs; raise rebuild_timeout if it is only slow' };
  }
  return { ...base, cause: `the call to ${url.origin} failed: ${describeError(err)}` };
}

/** Why the token exchange did not produce an access token. */
export function diagnoseExchange(err: unknown, c: ExchangeContext): Diagnosis {
  if (err instanceof TokenExchangeError && err.status !== undefined) return refusal(err, c);
  if (err instanceof TokenExchangeError && err.code === 'E_TOKEN_RESPONSE') {
    return { code: err.code, cause: 'token_url answered 200 without an access token: it is not the OpenFaaS gateway\'s token endpoint', fix: actionOf(err.hint ?? 'check token_url') };
  }
  return diagnoseNetwork(err instanceof TokenExchangeError && err.cause !== undefined ? err.cause : err, new URL(c.tokenUrl));
}

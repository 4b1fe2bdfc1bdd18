import { describe, expect, it } from 'vitest';
import { exchangeHint } from '../../src/auth/exchange.ts';
import type { TokenClaims } from '../../src/auth/token-file.ts';
import { actionOf, diagnoseExchange, diagnoseNetwork } from '../../src/cli/doctor/diagnose.ts';
import { discoveryChecks, type DiscoveryContext } from '../../src/cli/doctor/discovery-checks.ts';
import { diagnoseGateway } from '../../src/cli/doctor/gateway-diagnosis.ts';
import { renderText } from '../../src/cli/doctor/render-text.ts';
import { check, skipped, type DoctorReport } from '../../src/cli/doctor/report.ts';
import { claimProblems } from '../../src/cli/doctor/token-check.ts';
import { describeExpiry, displayUrl, formatTimeLeft } from '../../src/cli/format.ts';
import { GatewayError, TokenExchangeError } from '../../src/errors.ts';
import { networkHint } from '../../src/gateway/http.ts';

const SUB = 'system:serviceaccount:tenant-a:cron';
const ISS = 'https://kubernetes.default.svc.cluster.local';
const GW = 'https://gw.example.com';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const claims: TokenClaims = { sub: SUB, iss: ISS, aud: [GW], expMs: NOW + 3_600_000 };

function refused(description: string): TokenExchangeError {
  return new TokenExchangeError(`token exchange refused (400 invalid_request): ${description}`, {
    status: 400,
    oauthError: 'invalid_request',
    description,
    subject: SUB,
    hint: exchangeHint(description, claims, GW),
  });
}

const exchangeContext = { claims, systemIssuer: GW, tokenUrl: `${GW}/oauth/token` };

describe('actionOf (the fix part of the production hints)', () => {
  it('should keep what to do from every exchangeHint branch', () => {
    const action = (description: string): string => actionOf(exchangeHint(description, claims, GW));
    expect(action(`No policies found for subject: ${SUB}`)).toMatch(
      new RegExp(`^create a Role \\(iam.openfaas.com/v1\\) in the openfaas namespace with principal jwt:sub: \\["${SUB}"\\] and condition StringEqual jwt:iss: \\["${ISS}"\\]`),
    );
    expect(action('issuer not registered: x')).toBe('check "kubectl get jwtissuer -n openfaas" and create a JwtIssuer for it');
    expect(action('audience not valid')).toBe("set the projected volume's audience to system_issuer and list it in the JwtIssuer's aud");
    expect(action('Could not validate JWT token, JWKS keys missing.')).toMatch(/^restart the oidc-plugin/);
    expect(action('token expired')).toMatch(/^the kubelet should refresh it/);
    expect(action('something else')).toBe('see the IAM troubleshooting section of README.md');
  });

  it('should keep what to do from networkHint', () => {
    const url = new URL('https://gw.example.com:8443/oauth/token');
    expect(actionOf(networkHint(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), url))).toBe('check gateway_url and that the gateway is running');
    expect(actionOf(networkHint(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), url))).toBe(
      'if it is signed by a private CA, mount the CA bundle and set NODE_EXTRA_CA_CERTS to its path',
    );
  });
});

describe('projected token claims', () => {
  it('should accept a token for the system issuer that has not expired', () => {
    expect(claimProblems(claims, GW, NOW)).toEqual([]);
  });

  it('should name a wrong audience, an expired token and a file that is not a JWT', () => {
    expect(claimProblems({ ...claims, aud: ['https://kubernetes.default.svc'] }, GW, NOW)).toEqual([
      {
        cause: `the token's audience [https://kubernetes.default.svc] does not contain system_issuer ${GW}`,
        fix: "set the projected volume's audience to system_issuer and list it in the JwtIssuer's aud",
      },
    ]);
    expect(claimProblems({ ...claims, expMs: NOW - 125_000 }, GW, NOW)[0]?.cause).toBe('the token expired 2m5s ago');
    expect(claimProblems({}, GW, NOW)[0]?.cause).toContain('does not hold a JWT');
  });
});

describe('exchange diagnosis', () => {
  it('should explain a missing Role with the subject and the Role fields to check', () => {
    const d = diagnoseExchange(refused(`No policies found for subject: ${SUB}`), exchangeContext);
    expect(d.cause).toBe('no IAM Role matches this ServiceAccount (or the Policies its Role names do not exist)');
    expect(d.fix).toMatch(/^create a Role/);
    expect(d.details).toContain(`  spec.principal["jwt:sub"] lists "${SUB}"`);
    expect(d.details).toContain(`  spec.condition.StringEqual["jwt:iss"] lists "${ISS}"`);
  });

  it('should classify each refusal from the troubleshooting guide', () => {
    expect(diagnoseExchange(refused(`issuer not registered: ${ISS}`), exchangeContext).cause).toContain(`issuer ${ISS} is not registered`);
    expect(diagnoseExchange(refused('audience not valid'), exchangeContext).cause).toContain('not the intended audience');
    expect(diagnoseExchange(refused('Could not validate JWT token, JWKS keys missing.'), exchangeContext).cause).toContain('JWKS keys');
    expect(diagnoseExchange(refused('token expired'), exchangeContext).cause).toBe('the projected token has expired');
    const bad = diagnoseExchange(refused('invalid token: signature verification failed'), exchangeContext);
    expect(bad.fix).toContain('kubectl get jwtissuer');
  });

  it('should explain a TLS certificate from an unknown authority, and an unreachable gateway', () => {
    const url = new URL(`${GW}/oauth/token`);
    const tls = new GatewayError('E_GATEWAY_NETWORK', 'POST /oauth/token failed', {
      path: '/oauth/token',
      cause: Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      hint: networkHint(Object.assign(new Error(''), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), url),
    });
    const wrapped = new TokenExchangeError('token exchange failed', { cause: tls, hint: tls.hint ?? '' });
    const d = diagnoseExchange(wrapped, exchangeContext);
    expect(d.cause).toBe('the TLS certificate of gw.example.com is signed by an unknown authority (a private CA or a self-signed certificate) (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(d.fix).toContain('NODE_EXTRA_CA_CERTS');
    const refusedConn = diagnoseNetwork(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), url);
    expect(refusedConn.cause).toBe(`the gateway is unreachable: nothing answers at ${GW} (ECONNREFUSED)`);
  });
});

describe('gateway diagnosis', () => {
  const status = (n: number): GatewayError => new GatewayError('E_GATEWAY_HTTP', `answered ${n}`, { path: '/system/x', status: n });

  it('should tell Namespace:List from Function:List for a 403', () => {
    expect(diagnoseGateway(status(403), { gatewayUrl: GW, auth: 'iam' }).cause).toContain('does not grant Namespace:List');
    const ns = diagnoseGateway(status(403), { gatewayUrl: GW, auth: 'iam', namespace: 'staging' });
    expect(ns.cause).toContain('not list its functions (Function:List)');
    expect(ns.fix).toContain('"staging:*"');
  });

  it('should explain a 401 for each auth mode', () => {
    expect(diagnoseGateway(status(401), { gatewayUrl: GW, auth: 'basic' }).cause).toBe('the gateway refused the basic-auth credentials');
    expect(diagnoseGateway(status(401), { gatewayUrl: GW, auth: 'none' }).cause).toBe('the gateway requires credentials and none are configured');
    expect(diagnoseGateway(status(401), { gatewayUrl: GW, auth: 'iam' }).cause).toContain('access token');
  });
});

describe('discovery checks', () => {
  const ctx: DiscoveryContext = { gatewayUrl: GW, auth: 'iam', defaults: { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 }, now: NOW };
  const fn = (name: string, namespace: string, annotations: Record<string, string>) => ({ name, namespace, annotations });

  it('should list selected, rejected and ignored functions and warn about a 403 namespace', () => {
    const { checks, namespaces } = discoveryChecks(
      {
        ok: true,
        namespaces: ['dev', 'staging'],
        listings: [
          {
            namespace: 'dev',
            ok: true,
            functions: [
              fn('b', 'dev', { topic: 'cron-function', schedule: '0 9 * * *' }),
              fn('a', 'dev', { topic: 'cron-function', schedule: '0 9 * *' }),
              fn('c', 'dev', {}),
            ],
          },
          { namespace: 'staging', ok: false, error: new GatewayError('E_GATEWAY_HTTP', 'answered 403', { path: '/system/functions', status: 403 }) },
        ],
      },
      ctx,
    );
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['namespaces', 'pass'],
      ['functions', 'warn'],
      ['schedules', 'warn'],
    ]);
    expect(namespaces[0]?.functions.map((f) => [f.function, f.status])).toEqual([
      ['a.dev', 'rejected'],
      ['b.dev', 'scheduled'],
      ['c.dev', 'ignored'],
    ]);
    expect(namespaces[0]?.functions[1]?.schedules).toEqual([{ expression: '0 9 * * *', next: '2026-11-24T09:00:00.000Z' }]);
    expect(namespaces[1]).toMatchObject({ name: 'staging', status: 'forbidden', functions: [] });
    expect(checks[2].details?.[0]).toMatch(/^a\.dev: cannot be scheduled: invalid schedule "0 9 \* \*"/);
  });

  it('should fail on a namespace that cannot be read, and warn when nothing is visible', () => {
    const network = Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' });
    const failed = discoveryChecks({ ok: true, namespaces: ['dev'], listings: [{ namespace: 'dev', ok: false, error: network }] }, ctx);
    expect(failed.checks.map((c) => c.status)).toEqual(['pass', 'fail', 'skip']);
    const empty = discoveryChecks({ ok: true, namespaces: [], listings: [] }, ctx);
    expect(empty.checks.map((c) => c.status)).toEqual(['warn', 'skip', 'skip']);
    const unlisted = discoveryChecks({ ok: false, error: network }, ctx);
    expect(unlisted.checks.map((c) => c.status)).toEqual(['fail', 'skip', 'skip']);
  });
});

describe('rendering and formats', () => {
  it('should print one line per check with its mark, then cause, fix and details', () => {
    const report: DoctorReport = {
      version: '1.2.3',
      ok: false,
      checks: [
        check('configuration', 'pass', 'fine'),
        check('token-exchange', 'fail', 'refused', { cause: 'why', fix: 'how', details: ['more'] }),
        check('functions', 'warn', 'hmm'),
        skipped('namespaces', 'no access token'),
      ],
      namespaces: [],
    };
    expect(renderText(report)).toBe(
      [
        'cron-connector doctor 1.2.3',
        '✓ configuration    fine',
        '✗ token exchange   refused',
        '    cause: why',
        '    fix:   how',
        '    more',
        '! functions        hmm',
        '- namespaces       skipped: no access token',
        '1 check failed, 1 warning.',
        '',
      ].join('\n'),
    );
  });

  it('should format times left and hide credentials in URLs', () => {
    expect(formatTimeLeft(6_720_000)).toBe('1h52m');
    expect(formatTimeLeft(7_200_000)).toBe('2h');
    expect(formatTimeLeft(59_999)).toBe('59s');
    expect(formatTimeLeft(250_000)).toBe('4m10s');
    expect(describeExpiry(NOW - 60_000, NOW)).toBe('expired 1m ago');
    expect(displayUrl('https://admin:secret@gw.example.com:8080')).toBe('https://gw.example.com:8080');
    expect(displayUrl(GW)).toBe(GW);
  });
});

import { describe, expect, it } from 'vitest';
import type { TokenClaims } from '../../src/auth/token-file.ts';
import { diagnosisOf } from '../../src/cli/doctor/diagnose.ts';
import { discoveryChecks, type DiscoveryContext } from '../../src/cli/doctor/discovery-checks.ts';
import { renderText } from '../../src/cli/doctor/render-text.ts';
import { check, skipped, type DoctorReport } from '../../src/cli/doctor/report.ts';
import { claimProblems } from '../../src/cli/doctor/token-check.ts';
import { describeExpiry, formatTimeLeft } from '../../src/cli/format.ts';
import { gatewayStatus } from '../../src/diagnosis.ts';
import { GatewayError } from '../../src/errors.ts';

const SUB = 'system:serviceaccount:tenant-a:cron';
const ISS = 'https://kubernetes.default.svc.cluster.local';
const GW = 'https://gw.example.com';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const claims: TokenClaims = { sub: SUB, iss: ISS, aud: [GW], expMs: NOW + 3_600_000 };

describe('projected token claims', () => {
  it('should accept a token for the system issuer that has not expired', () => {
    expect(claimProblems(claims, GW, NOW)).toEqual([]);
  });

  it('should name a wrong audience, an expired token and a file that is not a JWT', () => {
    expect(claimProblems({ ...claims, aud: ['https://kubernetes.default.svc'] }, GW, NOW)).toEqual([
      {
        cause: `the token's audience [https://kubernetes.default.svc] does not contain system_issuer ${GW}`,
        fix: `set the projected volume's audience to system_issuer (${GW}) and list it in the JwtIssuer's aud`,
      },
    ]);
    expect(claimProblems({ ...claims, expMs: NOW - 125_000 }, GW, NOW)[0]?.cause).toBe('the token expired 2m5s ago');
    expect(claimProblems({}, GW, NOW)[0]?.cause).toContain('does not hold a JWT');
  });
});

describe('doctor diagnosis of a failed call', () => {
  it('should use the diagnosis the error was thrown with, as the daemon logs it', () => {
    const err = new GatewayError('E_GATEWAY_HTTP', 'GET /system/namespaces answered 401', {
      path: '/system/namespaces',
      status: 401,
      diagnosis: gatewayStatus(401, { auth: 'none' }),
    });
    expect(diagnosisOf(err, new URL(GW))).toEqual({
      code: 'E_GATEWAY_HTTP',
      cause: 'the gateway requires credentials and none are configured',
      fix: 'set system_issuer (IAM, with a projected token) or basic_auth=true with the basic-auth secret mounted at secret_mount_path',
    });
    expect(err.hint).toBe(
      'the gateway requires credentials and none are configured; set system_issuer (IAM, with a projected token) or basic_auth=true with the basic-auth secret mounted at secret_mount_path',
    );
  });

  it('should read an error that is not the connector\'s own as a network failure of the call', () => {
    const d = diagnosisOf(Object.assign(new Error('getaddrinfo ENOTFOUND gw.example.com'), { code: 'ENOTFOUND' }), new URL(`${GW}/oauth/token`));
    expect(d).toEqual({
      cause: 'the host name gw.example.com does not resolve (ENOTFOUND)',
      fix: 'check the host name in the URL (in the cluster the gateway is gateway.openfaas, or gateway.openfaas.svc.cluster.local) and the cluster DNS',
    });
  });
});

describe('discovery checks', () => {
  const ctx: DiscoveryContext = { gatewayUrl: GW, defaults: { topic: 'cron-function', timezone: 'UTC', async: false, retries: 2 }, now: NOW };
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
  });
});

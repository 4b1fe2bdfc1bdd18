import { describe, expect, it } from 'vitest';
import { exchangeRefusal, gatewayStatus, hintOf, invocationStatus, networkFailure, systemCode, timeoutFailure } from '../../src/diagnosis.ts';

const SUB = 'system:serviceaccount:tenant-a:cron';
const ISS = 'https://kubernetes.default.svc.cluster.local';
const GW = 'https://gw.example.com';
const ctx = { claims: { sub: SUB, iss: ISS, aud: ['https://kubernetes.default.svc'] }, systemIssuer: GW };

describe('token exchange refusals', () => {
  it('should name the Role to create, with the subject and issuer, when no policy matches', () => {
    const d = exchangeRefusal(`No policies found for subject: ${SUB}`, ctx);
    expect(d.cause).toBe('no IAM Role matches this ServiceAccount (or the Policies its Role names do not exist)');
    expect(d.fix).toBe(
      `create a Role (iam.openfaas.com/v1) in the openfaas namespace with principal jwt:sub: ["${SUB}"] and condition StringEqual jwt:iss: ["${ISS}"], bound to a Policy allowing Function:List and Namespace:List (the Helm chart creates both: IAM is on by default); the connector retries by itself`,
    );
    expect(d.details).toContain(`  spec.principal["jwt:sub"] lists "${SUB}"`);
    expect(d.details).toContain(`  spec.condition.StringEqual["jwt:iss"] lists "${ISS}"`);
  });

  it.each([
    [`issuer not registered: ${ISS}`, `the projected token's issuer ${ISS} is not registered with OpenFaaS as a JwtIssuer`, /^check "kubectl get jwtissuer -n openfaas"/],
    ['audience not valid', "OpenFaaS is not the intended audience of the projected token: its aud [https://kubernetes.default.svc] is not in the JwtIssuer's aud", /audience to system_issuer \(https:\/\/gw\.example\.com\)/],
    ['policy does not allow Function:Invoke on dev', "the IAM Policy bound to this connector does not grant Function:Invoke on the function's namespace", /jwtAuth=true adds it/],
    ['Could not validate JWT token, JWKS keys missing.', 'the oidc-plugin has no valid JWKS keys cached for the issuer (cache out of sync, or it cannot fetch them)', /^restart the oidc-plugin/],
    ['token expired', 'the projected token has expired', /kubelet refreshes it/],
    ['invalid token: signature verification failed', `the gateway could not verify the projected token with the keys of the JwtIssuer for ${ISS}`, /kubectl get jwtissuer/],
  ])('should explain %j', (description, cause, fix) => {
    const d = exchangeRefusal(description, ctx);
    expect(d.cause).toBe(cause);
    expect(d.fix).toMatch(fix);
  });

  it('should fall back to the status and the OAuth error for a refusal it does not know', () => {
    expect(exchangeRefusal('something else', ctx, 400, 'invalid_request')).toEqual({
      cause: 'the gateway refused the token exchange (400 invalid_request)',
      fix: 'see the IAM troubleshooting section of README.md; the connector retries by itself',
    });
  });
});

describe('network failures', () => {
  const url = new URL('https://gw.example.com:8443/oauth/token');

  it.each([
    ['ECONNREFUSED', 'nothing listens at gw.example.com:8443 (ECONNREFUSED)', /check the URL's host and port/],
    ['ENOTFOUND', 'the host name gw.example.com does not resolve (ENOTFOUND)', /gateway\.openfaas.*cluster DNS/],
    ['EAI_AGAIN', 'the DNS lookup of gw.example.com failed for now (EAI_AGAIN)', /retries by itself/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'gw.example.com:8443 does not speak TLS: the URL says https:// but the port answers in plain HTTP (ERR_SSL_WRONG_VERSION_NUMBER)', /^use http:\/\/gw\.example\.com:8443/],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'the TLS certificate of gw.example.com:8443 is signed by an unknown authority (a private CA or a self-signed certificate) (SELF_SIGNED_CERT_IN_CHAIN)', /NODE_EXTRA_CA_CERTS/],
    ['CERT_HAS_EXPIRED', 'the TLS certificate of gw.example.com:8443 has expired (CERT_HAS_EXPIRED)', /renew it/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'the TLS certificate of gw.example.com:8443 is not valid for that host name (ERR_TLS_CERT_ALTNAME_INVALID)', /host name the certificate names/],
    ['ECONNRESET', 'gw.example.com:8443 closed the connection (ECONNRESET)', /scheme matches the port/],
    ['EHOSTUNREACH', 'gw.example.com:8443 cannot be reached (EHOSTUNREACH)', /network policies/],
  ])('should explain %s in its own words', (code, cause, fix) => {
    const d = networkFailure(code, url, 'whatever');
    expect(d.cause).toBe(cause);
    expect(d.fix).toMatch(fix);
  });

  it('should not describe an unresolvable host as one where nothing answers', () => {
    expect(networkFailure('ENOTFOUND', url, '').cause).not.toMatch(/nothing (answers|listens)/);
  });

  it('should fall back to the error itself', () => {
    expect(networkFailure(undefined, url, 'socket hang up')).toEqual({
      cause: 'the call to https://gw.example.com:8443 failed: socket hang up',
      fix: 'check that https://gw.example.com:8443 is reachable from this Pod',
    });
  });

  it('should find the system code under undici\'s own errors', () => {
    const err = new Error('fetch failed', { cause: Object.assign(new Error('x', { cause: Object.assign(new Error('y'), { code: 'ECONNREFUSED' }) }), { code: 'UND_ERR_SOCKET' }) });
    expect(systemCode(err)).toBe('ECONNREFUSED');
  });

  it('should print a timeout the way every other duration is printed, naming the setting to raise', () => {
    expect(timeoutFailure(url, 10_000, 'rebuild_timeout')).toEqual({
      cause: 'https://gw.example.com:8443 did not answer within 10s',
      fix: 'check the gateway is healthy (kubectl get pods -n openfaas) and its logs; raise rebuild_timeout if it is only slow',
    });
  });
});

describe('gateway answers', () => {
  it('should explain a 401 in the terms of the auth mode in use', () => {
    expect(gatewayStatus(401, { auth: 'none' }).cause).toBe('the gateway requires credentials and none are configured');
    expect(gatewayStatus(401, { auth: 'none' }).fix).not.toMatch(/secret_mount_path hold|basic-auth credentials/);
    expect(gatewayStatus(401, { auth: 'basic' }).cause).toBe('the gateway refused the basic-auth credentials');
    expect(gatewayStatus(401, { auth: 'iam' }).cause).toBe('the gateway refused the access token the connector obtained for itself');
    expect(gatewayStatus(401, { auth: 'iam' }).fix).not.toMatch(/basic/);
  });

  it('should tell Namespace:List from Function:List for a 403', () => {
    expect(gatewayStatus(403, { auth: 'iam' }).cause).toBe("the connector's IAM Policy does not grant Namespace:List");
    const ns = gatewayStatus(403, { auth: 'iam', namespace: 'staging' });
    expect(ns.cause).toBe('the IAM Policy lets the connector see namespace staging (Namespace:List) but not list its functions (Function:List)');
    expect(ns.fix).toContain('"staging:*"');
  });

  it('should name where a redirect points and why it is not followed', () => {
    expect(gatewayStatus(301, { auth: 'iam', location: 'https://gw/' }).cause).toBe(
      'the gateway redirected to https://gw/, which is not followed (it would carry the credentials elsewhere)',
    );
  });
});

describe('invocation answers', () => {
  it('should point a 401 at jwt_auth only when it is off', () => {
    expect(invocationStatus(401, false).fix).toBe('set jwt_auth=true on the connector (helm: jwtAuth=true, which also grants Function:Invoke)');
    expect(invocationStatus(401, true).cause).toBe('the function refused the per-function token even after it was renewed');
  });

  it('should write a diagnosis as one hint line', () => {
    expect(hintOf(invocationStatus(503, false))).toBe("the function or the gateway failed (503); check the function's logs (faas-cli logs <function>)");
  });
});

describe('timeouts of invocations', () => {
  it('should blame the function, not the gateway, and point at upstream_timeout and async', () => {
    const d = timeoutFailure(new URL('http://gateway.openfaas:8080'), 60_000, 'upstream_timeout');
    expect(d.cause).toBe('the function did not answer within 1m0s (upstream_timeout); it may still be running');
    expect(d.fix).toMatch(/raise upstream_timeout .*\(com\.openfaas\.cron\.async=true\)$/);
  });
});

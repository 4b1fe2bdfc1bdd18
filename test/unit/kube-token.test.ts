/**
 * KubeTokenSource (token_source=kubernetes) in-process: a fake TokenRequest API the test answers by
 * hand with tokens a KubeIssuer signs, and a ManualClock, so renewal at 80% of the token's life,
 * the backoff of failed renewals and the use of the last good token until it expires are checked
 * to the millisecond, without sleeping.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FunctionTokens } from '../../src/auth/function-tokens.ts';
import { IamCredentials } from '../../src/auth/iam.ts';
import {
  KubeTokenSource,
  MIN_TOKEN_EXPIRATION_SECONDS,
  TOKEN_EXPIRATION_SECONDS,
  type MintedToken,
  type TokenRequestClient,
  type TokenRequestSpec,
} from '../../src/auth/kube-token.ts';
import { kubeApiFailure, type KubeRequestContext } from '../../src/diagnosis.ts';
import { KubeApiError } from '../../src/errors.ts';
import { deferred, flushMicrotasks, isSettled, type Deferred } from '../helpers/async.ts';
import { FakeDispatcher } from '../helpers/fake-dispatcher.ts';
import { captureLogs, type LogCapture } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

const T0 = Date.parse('2026-11-23T13:42:00.000Z');
const SYSTEM_ISSUER = 'https://gw.example.com';
const SA = { namespace: 'openfaas', name: 'cron-connector' };
const SUBJECT = 'system:serviceaccount:openfaas:cron-connector';
const CREDENTIALS = 'kubeconfig context "laptop"';
const CONTEXT: KubeRequestContext = { verb: 'create', resource: 'serviceaccounts/token', namespace: SA.namespace, name: SA.name, credentials: CREDENTIALS };

let kube: KubeIssuer;

beforeAll(async () => {
  kube = await KubeIssuer.create();
});

function apiError(status: number, reason: string): KubeApiError {
  return new KubeApiError(`Kubernetes API: create serviceaccounts/token openfaas/cron-connector: ${status} ${reason}`, {
    status,
    reason,
    diagnosis: kubeApiFailure(status, CONTEXT),
  });
}

interface HeldTokenRequest {
  readonly spec: TokenRequestSpec;
  readonly signal: AbortSignal;
  /** Answers with a token issued now for `lifetimeS` (default: what was asked); `expiresAtMs` overrides status.expirationTimestamp. */
  grant(lifetimeS?: number, expiresAtMs?: number | null): Promise<string>;
  fail(err: unknown): Promise<void>;
}

/** The TokenRequest API, answered by hand. */
class FakeTokenRequests implements TokenRequestClient {
  readonly credentials = CREDENTIALS;
  readonly calls: HeldTokenRequest[] = [];
  readonly minted: string[] = [];
  private readonly clock: ManualClock;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  createToken(spec: TokenRequestSpec, signal: AbortSignal): Promise<MintedToken> {
    const answer: Deferred<MintedToken> = deferred();
    signal.addEventListener('abort', () => answer.reject(new Error('aborted')), { once: true });
    this.calls.push({
      spec,
      signal,
      grant: async (lifetimeS = spec.expirationSeconds, expiresAtMs) => {
        const issuedAt = Math.floor(this.clock.now() / 1000);
        const token = await kube.issue({ namespace: spec.namespace, serviceAccount: spec.name, aud: [...spec.audiences], issuedAt, lifetimeSeconds: lifetimeS });
        this.minted.push(token);
        answer.resolve({ token, expiresAtMs: expiresAtMs === null ? undefined : (expiresAtMs ?? (issuedAt + lifetimeS) * 1000) });
        await flushMicrotasks();
        return token;
      },
      fail: async (err) => {
        answer.reject(err);
        await flushMicrotasks();
      },
    });
    return answer.promise;
  }

  last(): HeldTokenRequest {
    const call = this.calls.at(-1);
    if (call === undefined) throw new Error('no TokenRequest was made');
    return call;
  }
}

interface Setup {
  readonly clock: ManualClock;
  readonly api: FakeTokenRequests;
  readonly logs: LogCapture;
  readonly source: KubeTokenSource;
  readonly connects: { count: number };
}

const live: Setup[] = [];

function setup(opts: { connect?: () => Promise<TokenRequestClient>; expirationSeconds?: number } = {}): Setup {
  const clock = new ManualClock(T0);
  const api = new FakeTokenRequests(clock);
  const logs = captureLogs();
  const connects = { count: 0 };
  const source = new KubeTokenSource({
    serviceAccount: SA,
    audience: SYSTEM_ISSUER,
    clock,
    logger: logs.logger,
    random: () => 0.5,
    expirationSeconds: opts.expirationSeconds,
    connect: () => {
      connects.count++;
      return opts.connect?.() ?? Promise.resolve(api);
    },
  });
  const s = { clock, api, logs, source, connects };
  live.push(s);
  return s;
}

afterEach(() => {
  for (const s of live.splice(0)) {
    s.source.stop();
    // nothing of any token reaches the logs
    for (const token of s.api.minted) for (const line of s.logs.raw) expect(line).not.toContain(token.split('.')[2]);
  }
});

/** Waits until the fake has received `n` TokenRequests. */
async function requests(s: Setup, n: number): Promise<void> {
  for (let i = 0; i < 20 && s.api.calls.length < n; i++) await flushMicrotasks();
  expect(s.api.calls).toHaveLength(n);
}

/** The first token: current() asked, the request granted. */
async function first(s: Setup, lifetimeS?: number): Promise<string> {
  const pending = s.source.current();
  await requests(s, 1);
  const token = await s.api.last().grant(lifetimeS);
  expect((await pending).token).toBe(token);
  return token;
}

describe('KubeTokenSource: minting', () => {
  it('should request a token for the ServiceAccount with audience system_issuer for an hour, and decode its claims', async () => {
    const s = setup();
    const pending = s.source.current();
    await requests(s, 1);
    expect(s.api.last().spec).toEqual({ namespace: 'openfaas', name: 'cron-connector', audiences: [SYSTEM_ISSUER], expirationSeconds: 3600 });
    const token = await s.api.last().grant();
    const got = await pending;
    expect(got.token).toBe(token);
    expect(got.claims).toEqual({ iss: kube.iss, sub: SUBJECT, aud: [SYSTEM_ISSUER], expMs: T0 + 3_600_000 });
    expect(s.source.subject).toBe(SUBJECT);
    expect(s.source.description).toBe('ServiceAccount openfaas/cron-connector (TokenRequest)');
    expect(s.source.credentials).toBe(CREDENTIALS);
    expect(s.source.expiresAt).toBe(T0 + 3_600_000);
    expect(s.logs.entries).toEqual([
      {
        level: 'info',
        msg: 'ServiceAccount token obtained',
        serviceAccount: 'openfaas/cron-connector',
        kubernetes: CREDENTIALS,
        audience: SYSTEM_ISSUER,
        expiresIn: '1h0m0s',
        renewIn: '48m0s',
      },
    ]);
    expect(TOKEN_EXPIRATION_SECONDS).toBe(3600);
  });

  it('should share one request among concurrent callers and connect once', async () => {
    const s = setup();
    const callers = [s.source.current(), s.source.current(), s.source.current()];
    await requests(s, 1);
    const token = await s.api.last().grant();
    expect((await Promise.all(callers)).map((t) => t.token)).toEqual([token, token, token]);
    expect((await s.source.current()).token).toBe(token);
    expect(s.api.calls).toHaveLength(1);
    expect(s.connects.count).toBe(1);
  });

  it('should refuse an expiration under the API minimum of 600 s', () => {
    expect(() => setup({ expirationSeconds: 599 })).toThrow(RangeError);
    expect(MIN_TOKEN_EXPIRATION_SECONDS).toBe(600);
    expect(() => setup({ expirationSeconds: 600 })).not.toThrow();
  });
});

describe('KubeTokenSource: renewal', () => {
  it('should renew in the background at exactly 80% of the token\'s life, handing out the old token until then', async () => {
    const s = setup();
    const token1 = await first(s);
    expect(s.clock.requested).toEqual([2_880_000]);
    s.clock.advance(2_879_999);
    expect(s.api.calls).toHaveLength(1);
    expect((await s.source.current()).token).toBe(token1);
    s.clock.advance(1);
    await requests(s, 2);
    // while the renewal is in flight, callers get the old token at once
    expect((await s.source.current()).token).toBe(token1);
    expect(s.api.calls).toHaveLength(2);
    const token2 = await s.api.last().grant();
    expect((await s.source.current()).token).toBe(token2);
    expect(s.source.expiresAt).toBe(T0 + 2_880_000 + 3_600_000);
    expect(s.clock.requested).toEqual([2_880_000, 2_880_000]);
    expect(s.logs.named('ServiceAccount token renewed')).toEqual([
      expect.objectContaining({ level: 'debug', serviceAccount: 'openfaas/cron-connector', expiresIn: '1h0m0s', renewIn: '48m0s' }),
    ]);
  });

  it('should take the expiry from status.expirationTimestamp when it is earlier than the JWT exp (and the reverse)', async () => {
    const s = setup();
    const pending = s.source.current();
    await requests(s, 1);
    await s.api.last().grant(3600, T0 + 1_200_000);
    await pending;
    expect(s.source.expiresAt).toBe(T0 + 1_200_000);
    expect(s.clock.requested).toEqual([960_000]);

    // no expirationTimestamp: the JWT exp (a server that granted less than asked)
    s.clock.advance(960_000);
    await requests(s, 2);
    await s.api.last().grant(800, null);
    expect(s.source.expiresAt).toBe(T0 + 960_000 + 800_000);
    expect(s.clock.requested).toEqual([960_000, 640_000]);
  });

  it('should keep handing out the last good token while renewals fail, retrying with backoff, until it expires', async () => {
    const s = setup();
    const token1 = await first(s);
    s.clock.advance(2_880_000);
    await requests(s, 2);
    await s.api.last().fail(apiError(403, 'Forbidden'));
    // retries after 500 ms, 1 s, 2 s, ... (random 0.5: no jitter)
    expect(s.clock.requested).toEqual([2_880_000, 500]);
    expect((await s.source.current()).token).toBe(token1);
    expect(s.api.calls).toHaveLength(2);
    const warn = s.logs.named('ServiceAccount token renewal failed, keeping the current token until it expires');
    expect(warn).toEqual([
      {
        level: 'warn',
        msg: 'ServiceAccount token renewal failed, keeping the current token until it expires',
        serviceAccount: 'openfaas/cron-connector',
        code: 'E_KUBE_API',
        error: 'Kubernetes API: create serviceaccounts/token openfaas/cron-connector: 403 Forbidden',
        status: 403,
        attempt: 1,
        retryIn: '500ms',
        validFor: '12m0s',
        hint: expect.stringContaining('resources: [serviceaccounts/token] resourceNames: [cron-connector] verbs: [create]') as unknown,
      },
    ]);

    s.clock.advance(499);
    expect(s.api.calls).toHaveLength(2);
    s.clock.advance(1);
    await requests(s, 3);
    await s.api.last().fail(apiError(503, 'ServiceUnavailable'));
    expect(s.clock.requested.slice(2)).toEqual([1000]);
    s.clock.advance(1000);
    await requests(s, 4);
    await s.api.last().fail(apiError(503, 'ServiceUnavailable'));
    expect(s.clock.requested.slice(3)).toEqual([2000]);

    // up to the last millisecond of its life the old token is used; then a caller's request asks again and gets the error
    s.clock.advanceTo(T0 + 3_599_999);
    for (const call of s.api.calls.slice(4)) await call.fail(apiError(503, 'ServiceUnavailable'));
    expect((await s.source.current()).token).toBe(token1);
    expect(s.clock.requested).toEqual([2_880_000, 500, 1000, 2000, 4000]);
    s.clock.advance(1);
    const failure = s.source.current().catch((e: unknown) => e);
    await requests(s, 6);
    await s.api.last().fail(apiError(503, 'ServiceUnavailable'));
    expect(await failure).toBeInstanceOf(KubeApiError);
    // no timer of its own any more: the callers retry on their backoff
    expect(s.clock.pending).toBe(0);
    expect(s.logs.named('ServiceAccount token renewal failed, keeping the current token until it expires')).toHaveLength(4);
  });

  it('should recover after failures and say so at info', async () => {
    const s = setup();
    await first(s);
    s.clock.advance(2_880_000);
    await requests(s, 2);
    await s.api.last().fail(apiError(500, 'InternalError'));
    s.clock.advance(500);
    await requests(s, 3);
    const token2 = await s.api.last().grant();
    expect((await s.source.current()).token).toBe(token2);
    expect(s.logs.messages()).toEqual([
      'ServiceAccount token obtained',
      'ServiceAccount token renewal failed, keeping the current token until it expires',
      'ServiceAccount token obtained',
    ]);
    // the next renewal is at 80% of the new token's life (issued at a whole second, 500 ms ago), the backoff is forgotten
    expect(s.clock.requested.at(-1)).toBe(0.8 * 3_599_500);
  });
});

describe('KubeTokenSource: no token', () => {
  it('should reject with the API error, quietly, and mint at once when asked again', async () => {
    const s = setup();
    const pending = s.source.current().catch((e: unknown) => e);
    await requests(s, 1);
    await s.api.last().fail(apiError(404, 'NotFound'));
    const err = await pending;
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).diagnosis?.cause).toBe('ServiceAccount openfaas/cron-connector does not exist');
    // the caller reports it (IamCredentials: Token exchange failed), and retries on its own backoff
    expect(s.logs.entries).toEqual([]);
    expect(s.clock.pending).toBe(0);

    s.clock.advance(100);
    const waiting = s.source.current();
    await requests(s, 2);
    expect(await isSettled(waiting)).toBe(false);
    const token = await s.api.last().grant();
    expect((await waiting).token).toBe(token);
    expect(s.logs.messages()).toEqual(['ServiceAccount token obtained']);
  });

  it('should connect again after a failed connection (no kubeconfig yet)', async () => {
    const noConfig = new KubeApiError('no Kubernetes API to reach: not in a cluster, no KUBECONFIG and no ~/.kube/config', {
      code: 'E_KUBE_CONFIG',
      diagnosis: { cause: 'token_source=kubernetes needs the Kubernetes API', fix: 'set KUBECONFIG' },
    });
    let fail = true;
    const s = setup({ connect: () => (fail ? Promise.reject(noConfig) : Promise.resolve(s.api)) });
    await expect(s.source.current()).rejects.toBe(noConfig);
    expect(s.api.calls).toHaveLength(0);
    fail = false;
    const retried = s.source.current();
    await requests(s, 1);
    await s.api.last().grant();
    expect(s.connects.count).toBe(2);
    expect((await retried).claims.sub).toBe(SUBJECT);
  });

  it('should refuse a token this machine\'s clock says has expired, naming the clock', async () => {
    const s = setup();
    const pending = s.source.current().catch((e: unknown) => e);
    await requests(s, 1);
    await s.api.last().grant(3600, T0 - 1000);
    const err = await pending;
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).diagnosis?.fix).toContain("synchronise this machine's clock");
  });

  it('should stop renewing and abort a request in flight when stopped', async () => {
    const s = setup();
    await first(s);
    expect(s.clock.pending).toBe(1);
    s.clock.advance(2_880_000);
    await requests(s, 2);
    s.source.stop();
    expect(s.api.last().signal.aborted).toBe(true);
    await flushMicrotasks();
    expect(s.clock.pending).toBe(0);
    expect(s.logs.named('ServiceAccount token renewal failed, keeping the current token until it expires')).toEqual([]);
  });
});

describe('KubeTokenSource as the subject token of the exchange', () => {
  it('should exchange the minted token, name the subject and the RBAC rule when the TokenRequest is forbidden, and share the token with per-function exchanges', async () => {
    const s = setup();
    const http = new FakeDispatcher();
    const creds = new IamCredentials({
      subjectToken: s.source,
      tokenUrl: 'http://gateway.openfaas:8080/oauth/token',
      systemIssuer: SYSTEM_ISSUER,
      dispatcher: http.dispatcher,
      clock: s.clock,
      logger: s.logs.logger,
    });
    const fnTokens = new FunctionTokens({
      subjectToken: s.source,
      tokenUrl: 'http://gateway.openfaas:8080/oauth/token',
      systemIssuer: SYSTEM_ISSUER,
      dispatcher: http.dispatcher,
      clock: s.clock,
    });
    try {
      creds.start();
      await requests(s, 1);
      await s.api.last().fail(apiError(403, 'Forbidden'));
      const failed = s.logs.named('Token exchange failed');
      expect(failed).toEqual([
        expect.objectContaining({
          code: 'E_KUBE_API',
          status: 403,
          subject: SUBJECT,
          error: 'Kubernetes API: create serviceaccounts/token openfaas/cron-connector: 403 Forbidden',
          hint: expect.stringContaining('RBAC does not allow "create" on the token of ServiceAccount openfaas/cron-connector') as unknown,
        }),
      ]);
      expect(String(failed[0]?.hint)).toContain(`bound to the identity the connector calls the API with (${CREDENTIALS})`);
      expect(http.requests).toHaveLength(0);

      // the exchange retries after its backoff (500 ms ±20%), which mints the token and exchanges it at once
      await s.clock.advanceAsync(600);
      await requests(s, 2);
      const token = await s.api.last().grant();
      const exchange = await http.next();
      expect(exchange.form.get('subject_token')).toBe(token);

      const perFunction = fnTokens.authorization('dev', 'nightly');
      const fnExchange = await http.next();
      expect(fnExchange.form.get('subject_token')).toBe(token);
      expect(fnExchange.form.get('audience')).toBe('dev:nightly');
      fnExchange.answer(400, { error: 'invalid_request', error_description: 'no' });
      await perFunction.catch(() => undefined);
      expect(s.api.calls).toHaveLength(2);
    } finally {
      creds.stop();
      http.failOpen();
    }
    // IamCredentials owns the source: stopping it stops the renewals
    expect(s.clock.pending).toBe(0);
  });
});

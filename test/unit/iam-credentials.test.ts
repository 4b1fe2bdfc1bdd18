/**
 * IamCredentials in-process: a real projected token file, the real exchange and HTTP code
 * (src/auth/exchange.ts, src/gateway/http.ts) over a Dispatcher the test answers by hand, and a
 * ManualClock for renewal and backoff, to the millisecond.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GRANT_TYPE, ID_TOKEN_TYPE } from '../../src/auth/exchange.ts';
import { IamCredentials } from '../../src/auth/iam.ts';
import { FileSubjectToken } from '../../src/auth/subject-token.ts';
import { readProjectedToken } from '../../src/auth/token-file.ts';
import { TokenExchangeError } from '../../src/errors.ts';
import { flushMicrotasks, isSettled } from '../helpers/async.ts';
import { FakeDispatcher, type HeldHttpRequest } from '../helpers/fake-dispatcher.ts';
import { captureLogs, type LogCapture } from '../helpers/logs.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

// the real reader, counted: an exchange starts by reading the projected token
vi.mock('../../src/auth/token-file.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/auth/token-file.ts')>();
  return { ...real, readProjectedToken: vi.fn(real.readProjectedToken) };
});

const T0 = Date.parse('2026-11-23T13:42:00.000Z');
const GATEWAY = 'http://gateway.openfaas:8080';
const SYSTEM_ISSUER = 'https://gw.example.com';
const SUBJECT = 'system:serviceaccount:openfaas:cron-connector';
const NO_POLICIES = `No policies found for subject: ${SUBJECT}`;
const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'upstream unavailable' };
const SIGNING_KEY = new TextEncoder().encode('a test signing key of 32 bytes!!');

let kube: KubeIssuer;
let dir: string;

beforeAll(async () => {
  kube = await KubeIssuer.create();
  dir = await mkdtemp(join(tmpdir(), 'cc-iam-unit-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A projected ServiceAccount token, written where the connector reads it. */
async function project(file: string, sub = SUBJECT): Promise<string> {
  const token = await kube.issue({ aud: [SYSTEM_ISSUER], sub, issuedAt: Math.floor(T0 / 1000), lifetimeSeconds: 3600 });
  await writeFile(file, `${token}\n`);
  return token;
}

let serial = 0;

/** An OpenFaaS access token expiring `lifetimeS` after `now`, carrying `policy`; each one different. */
function accessToken(now: number, lifetimeS: number, policy: string[] = ['cron-connector']): Promise<string> {
  return new SignJWT({ sub: SUBJECT, policy, jti: `token-${serial++}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(now / 1000) + lifetimeS)
    .sign(SIGNING_KEY);
}

interface Setup {
  readonly clock: ManualClock;
  readonly http: FakeDispatcher;
  readonly logs: LogCapture;
  readonly creds: IamCredentials;
  readonly exchanges: boolean[];
  readonly recovered: { count: number };
  readonly tokenFile: string;
  readonly projected: string;
  readonly issued: string[];
  /** Answers `req` with a fresh access token living `lifetimeS`; returns its Authorization value. */
  grant(req: HeldHttpRequest, lifetimeS?: number, expiresIn?: number): Promise<string>;
  /** Refuses `req` as the gateway does when no Role matches. */
  refuse(req: HeldHttpRequest): void;
}

const live: Setup[] = [];
let files = 0;

async function setup(opts: { tokenFile?: string } = {}): Promise<Setup> {
  const clock = new ManualClock(T0);
  const http = new FakeDispatcher();
  const logs = captureLogs();
  const exchanges: boolean[] = [];
  const recovered = { count: 0 };
  const tokenFile = opts.tokenFile ?? join(dir, `openfaas-token-${files++}`);
  const projected = opts.tokenFile === undefined ? await project(tokenFile) : '';
  const issued: string[] = [];
  const creds = new IamCredentials({
    subjectToken: new FileSubjectToken(tokenFile),
    tokenUrl: `${GATEWAY}/oauth/token`,
    systemIssuer: SYSTEM_ISSUER,
    dispatcher: http.dispatcher,
    clock,
    logger: logs.logger,
    onRecovered: () => recovered.count++,
    onExchange: (ok) => exchanges.push(ok),
  });
  const s: Setup = {
    clock,
    http,
    logs,
    creds,
    exchanges,
    recovered,
    tokenFile,
    projected,
    issued,
    async grant(req, lifetimeS = 60, expiresIn = lifetimeS) {
      const token = await accessToken(clock.now(), lifetimeS);
      issued.push(token);
      req.answer(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });
      await flushMicrotasks();
      return `Bearer ${token}`;
    },
    refuse(req) {
      req.answer(400, { error: 'invalid_request', error_description: NO_POLICIES });
    },
  };
  live.push(s);
  return s;
}

afterEach(() => {
  for (const s of live.splice(0)) {
    s.creds.stop();
    s.http.failOpen();
  }
  vi.restoreAllMocks();
});

/** Starts the credentials and answers the first exchange; returns the Authorization value. */
async function obtained(s: Setup, lifetimeS = 60): Promise<string> {
  s.creds.start();
  return s.grant(await s.http.next(), lifetimeS);
}

describe('IamCredentials: obtaining a token', () => {
  it('should exchange the projected token at token_url as an RFC 8693 form', async () => {
    const s = await setup();
    s.creds.start();
    const req = await s.http.next();
    expect(req).toMatchObject({ method: 'POST', origin: GATEWAY, path: '/oauth/token' });
    expect(req.headers).toEqual({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    expect(Object.fromEntries(req.form)).toEqual({ grant_type: GRANT_TYPE, subject_token: s.projected, subject_token_type: ID_TOKEN_TYPE });
  });

  it('should answer with the Bearer token and log Access token obtained with subject, policies, expiresIn and renewIn', async () => {
    const s = await setup();
    expect(s.creds.ready).toBe(false);
    const header = await obtained(s);
    await expect(s.creds.authorization()).resolves.toBe(header);
    expect(s.creds.ready).toBe(true);
    expect(s.logs.entries).toEqual([
      { level: 'info', msg: 'Access token obtained', subject: SUBJECT, policies: ['cron-connector'], expiresIn: '1m0s', renewIn: '48s' },
    ]);
    expect(s.exchanges).toEqual([true]);
    expect(s.recovered.count).toBe(0);
  });

  it('should take the lifetime from the JWT exp when it is shorter than expires_in', async () => {
    const s = await setup();
    s.creds.start();
    await s.grant(await s.http.next(), 10, 600);
    expect(s.logs.named('Access token obtained')[0]).toMatchObject({ expiresIn: '10s', renewIn: '8s' });
    expect(s.clock.requested).toEqual([8000]);
  });

  it('should share one exchange among concurrent callers', async () => {
    const s = await setup();
    const callers = [s.creds.authorization(), s.creds.authorization(), s.creds.authorization()];
    const header = await s.grant(await s.http.next());
    // a second exchange would still be waiting for an answer: every caller is served by the one
    expect(await isSettled(Promise.all(callers))).toBe(true);
    expect(await Promise.all(callers)).toEqual([header, header, header]);
    expect(s.http.requests).toHaveLength(1);
  });

  it('should read the projected token file again for every exchange', async () => {
    const s = await setup();
    await obtained(s);
    const rotated = await project(s.tokenFile);
    expect(rotated).not.toBe(s.projected);
    s.clock.advance(48_000);
    const renewal = await s.http.next();
    expect(renewal.form.get('subject_token')).toBe(rotated);
  });
});

describe('IamCredentials: renewal', () => {
  it('should renew in the background at exactly 80% of the token\'s life', async () => {
    const s = await setup();
    const first = await obtained(s, 60);
    expect(s.clock.requested).toEqual([48_000]);
    s.clock.advance(47_999);
    expect(s.clock.pending).toBe(1);
    await expect(s.creds.authorization()).resolves.toBe(first);
    s.clock.advance(1);
    expect(s.clock.pending).toBe(0);
    const renewal = await s.http.next();
    expect(renewal.path).toBe('/oauth/token');
  });

  it('should keep answering with the current token while a renewal is in flight, then with the new one', async () => {
    const s = await setup();
    const first = await obtained(s, 60);
    s.clock.advance(48_000);
    const renewal = await s.http.next();
    const during = s.creds.authorization();
    expect(await isSettled(during)).toBe(true);
    await expect(during).resolves.toBe(first);
    const second = await s.grant(renewal, 60);
    await expect(s.creds.authorization()).resolves.toBe(second);
    expect(second).not.toBe(first);
  });

  it('should log a renewal at debug, not as a new token, and arm the next one at 80% again', async () => {
    const s = await setup();
    await obtained(s, 60);
    s.clock.advance(48_000);
    await s.grant(await s.http.next(), 100);
    expect(s.logs.entries.map((e) => [e.level, e.msg])).toEqual([
      ['info', 'Access token obtained'],
      ['debug', 'Access token renewed'],
    ]);
    expect(s.logs.entries[1]).toMatchObject({ subject: SUBJECT, policies: ['cron-connector'], expiresIn: '1m40s', renewIn: '1m20s' });
    expect(s.clock.requested).toEqual([48_000, 80_000]);
    expect(s.recovered.count).toBe(0);
    expect(s.exchanges).toEqual([true, true]);
  });

  it('should renew from a caller when the renewal time passed without the timer (a clock step)', async () => {
    const s = await setup();
    const first = await obtained(s, 60);
    s.clock.jump(50_000);
    await expect(s.creds.authorization()).resolves.toBe(first);
    const renewal = await s.http.next();
    expect(renewal.path).toBe('/oauth/token');
  });

  it('should stop renewing once stopped', async () => {
    const s = await setup();
    await obtained(s, 60);
    expect(s.clock.pending).toBe(1);
    s.creds.stop();
    expect(s.clock.pending).toBe(0);
  });
});

describe('IamCredentials: failures and backoff', () => {
  it('should log a refused exchange with the OAuth description, subject, status, attempt, retryIn and hint', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    s.creds.start();
    const pending = s.creds.authorization();
    s.refuse(await s.http.next());
    await expect(pending).rejects.toThrow(`token exchange refused (400 invalid_request): ${NO_POLICIES}`);
    expect(s.logs.entries).toEqual([
      {
        level: 'error',
        msg: 'Token exchange failed',
        code: 'E_TOKEN_EXCHANGE',
        error: NO_POLICIES,
        subject: SUBJECT,
        status: 400,
        attempt: 1,
        retryIn: '500ms',
        hint: expect.stringContaining(`principal jwt:sub: ["${SUBJECT}"] and condition StringEqual jwt:iss: ["${kube.iss}"]`),
      },
    ]);
    expect(s.exchanges).toEqual([false]);
    expect(s.creds.ready).toBe(false);
  });

  it('should retry after 500 ms doubling to 30 s, each at exactly its delay', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    s.creds.start();
    const delays = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
    for (const [i, delay] of delays.entries()) {
      s.refuse(await s.http.next());
      await flushMicrotasks();
      expect(s.clock.requested.at(-1)).toBe(delay);
      s.clock.advance(delay - 1);
      expect(s.clock.pending).toBe(1);
      s.clock.advance(1);
      expect(s.clock.pending).toBe(0);
      expect(s.logs.entries.at(-1)).toMatchObject({ msg: 'Token exchange failed', attempt: i + 1 });
    }
    expect(s.logs.named('Token exchange failed').map((e) => e.retryIn)).toEqual(['500ms', '1s', '2s', '4s', '8s', '16s', '30s', '30s']);
    expect(s.clock.now() - T0).toBe(delays.reduce((a, b) => a + b, 0));
    // the timer fired for the ninth attempt
    await s.http.next();
    expect(s.http.requests).toHaveLength(9);
  });

  it.each([
    [0, [400, 800, 1600]],
    [1, [600, 1200, 2400]],
  ])('should jitter the backoff by at most 20 percent either way (random = %d)', async (random, expected) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const s = await setup();
    s.creds.start();
    for (const delay of expected) {
      s.refuse(await s.http.next());
      await flushMicrotasks();
      s.clock.advance(delay);
    }
    expect(s.clock.requested).toEqual(expected);
  });

  it('should fail callers at once while waiting to retry, without exchanging again', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    s.creds.start();
    s.refuse(await s.http.next());
    await flushMicrotasks();
    s.clock.advance(499);
    const caller = s.creds.authorization();
    // an exchange would have to read the token file first: settling now means none was started
    expect(await isSettled(caller)).toBe(true);
    await expect(caller).rejects.toBeInstanceOf(TokenExchangeError);
    s.clock.advance(1);
    await s.http.next();
    expect(s.http.requests).toHaveLength(2);
  });

  it('should keep using the current token while its renewal fails', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    const first = await obtained(s, 60);
    s.clock.advance(48_000);
    (await s.http.next()).answer(503, UNAVAILABLE);
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toEqual({
      level: 'error',
      msg: 'Token exchange failed',
      code: 'E_TOKEN_EXCHANGE',
      error: 'upstream unavailable',
      subject: SUBJECT,
      status: 503,
      attempt: 1,
      retryIn: '500ms',
      hint: expect.any(String),
    });
    const caller = s.creds.authorization();
    expect(await isSettled(caller)).toBe(true);
    await expect(caller).resolves.toBe(first);
    expect(s.creds.ready).toBe(true);
  });

  it('should not exchange for callers while a failed renewal waits out its backoff, and retry when it is due', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    const first = await obtained(s, 60);
    s.clock.advance(48_000);
    (await s.http.next()).answer(503, UNAVAILABLE);
    await flushMicrotasks();
    s.clock.advance(499);
    // every discovery pass asks for a token: none of them may start an exchange (which begins by
    // reading the projected token) before the retry time
    const reads = vi.mocked(readProjectedToken).mock.calls.length;
    for (let i = 0; i < 5; i++) await expect(s.creds.authorization()).resolves.toBe(first);
    expect(vi.mocked(readProjectedToken).mock.calls.length).toBe(reads);
    s.clock.advance(1);
    expect(vi.mocked(readProjectedToken).mock.calls.length).toBe(reads + 1);
    const retry = await s.http.next();
    expect(s.http.requests).toHaveLength(3);
    const renewed = await s.grant(retry, 60);
    await expect(s.creds.authorization()).resolves.toBe(renewed);
  });

  it('should stop using the token once it expires while renewals keep failing', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    await obtained(s, 60);
    // renewals fail at 48 s, 48.5 s, 49.5 s, 51.5 s and 55.5 s; the next is due at 63.5 s
    s.clock.advance(48_000);
    for (const delay of [0, 500, 1000, 2000, 4000]) {
      s.clock.advance(delay);
      (await s.http.next()).answer(503, UNAVAILABLE);
      await flushMicrotasks();
    }
    expect(s.clock.now() - T0).toBe(55_500);
    expect(s.clock.requested.at(-1)).toBe(8000);
    s.clock.advance(4_500);
    expect(s.clock.now() - T0).toBe(60_000);
    const caller = s.creds.authorization();
    expect(await isSettled(caller)).toBe(true);
    await expect(caller).rejects.toThrow('token exchange refused (503 temporarily_unavailable): upstream unavailable');
    expect(s.creds.ready).toBe(true);
    expect(s.exchanges).toEqual([true, false, false, false, false, false]);
  });

  it('should report a dropped connection with the URL and a reachability hint', async () => {
    const s = await setup();
    s.creds.start();
    const pending = s.creds.authorization();
    (await s.http.next()).fail(new Error('other side closed'));
    const message = `token exchange at ${GATEWAY}/oauth/token failed: POST /oauth/token failed: other side closed`;
    await expect(pending).rejects.toThrow(message);
    expect(s.logs.entries[0]).toMatchObject({
      level: 'error',
      msg: 'Token exchange failed',
      code: 'E_TOKEN_EXCHANGE',
      error: message,
      subject: SUBJECT,
      attempt: 1,
      hint: expect.stringContaining(`check that ${GATEWAY} is reachable from this Pod`),
    });
    expect(s.logs.entries[0]).not.toHaveProperty('status');
  });

  it('should report a missing projected token file with its path, without calling the gateway', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const missing = join(dir, 'absent', 'openfaas-token');
    const s = await setup({ tokenFile: missing });
    s.creds.start();
    await expect(s.creds.authorization()).rejects.toThrow(`cannot read the projected ServiceAccount token at ${missing}`);
    expect(s.logs.entries).toEqual([
      {
        level: 'error',
        msg: 'Token exchange failed',
        code: 'E_TOKEN_FILE',
        error: `cannot read the projected ServiceAccount token at ${missing}: ENOENT: no such file or directory, open '${missing}'`,
        attempt: 1,
        retryIn: '500ms',
        hint: expect.stringContaining('mount a projected serviceAccountToken volume with path openfaas-token'),
      },
    ]);
    expect(s.http.requests).toHaveLength(0);
  });
});

describe('IamCredentials: recovery', () => {
  it('should call onRecovered once when an exchange succeeds after failures, and log the token as obtained', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    s.creds.start();
    s.refuse(await s.http.next());
    await flushMicrotasks();
    s.clock.advance(500);
    s.refuse(await s.http.next());
    await flushMicrotasks();
    expect(s.recovered.count).toBe(0);
    s.clock.advance(1000);
    const header = await s.grant(await s.http.next());
    expect(s.recovered.count).toBe(1);
    await expect(s.creds.authorization()).resolves.toBe(header);
    expect(s.logs.entries.map((e) => [e.level, e.msg, e.attempt])).toEqual([
      ['error', 'Token exchange failed', 1],
      ['error', 'Token exchange failed', 2],
      ['info', 'Access token obtained', undefined],
    ]);
    // the attempt count starts over: a later failure is attempt 1 again
    s.clock.advance(48_000);
    s.refuse(await s.http.next());
    await flushMicrotasks();
    expect(s.logs.entries.at(-1)).toMatchObject({ msg: 'Token exchange failed', attempt: 1, retryIn: '500ms' });
    s.clock.advance(500);
    await s.grant(await s.http.next());
    expect(s.recovered.count).toBe(2);
    expect(s.logs.entries.at(-1)).toMatchObject({ level: 'info', msg: 'Access token obtained' });
    expect(s.exchanges).toEqual([false, false, true, false, true]);
  });

  it('should never log a token, projected or issued', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const s = await setup();
    await obtained(s);
    s.clock.advance(48_000);
    s.refuse(await s.http.next());
    await flushMicrotasks();
    s.clock.advance(500);
    await s.grant(await s.http.next());
    expect(s.logs.raw).toHaveLength(3);
    for (const secret of [s.projected, ...s.issued]) {
      const signature = secret.split('.')[2] ?? '';
      expect(signature.length).toBeGreaterThan(8);
      for (const line of s.logs.raw) {
        expect(line).not.toContain(secret);
        expect(line).not.toContain(signature);
      }
    }
  });
});

describe('IamCredentials: 401 invalidation', () => {
  it('should drop a refused token and exchange once for every caller that saw the 401', async () => {
    const s = await setup();
    const first = await obtained(s);
    s.creds.invalidate(first);
    s.creds.invalidate(first);
    const callers = [s.creds.authorization(), s.creds.authorization()];
    const second = await s.grant(await s.http.next());
    expect(await isSettled(Promise.all(callers))).toBe(true);
    expect(await Promise.all(callers)).toEqual([second, second]);
    expect(s.http.requests).toHaveLength(2);
  });

  it('should ignore a 401 reported for a token already replaced', async () => {
    const s = await setup();
    const first = await obtained(s);
    s.creds.invalidate(first);
    const refreshed = s.creds.authorization();
    const second = await s.grant(await s.http.next());
    await expect(refreshed).resolves.toBe(second);
    // a slower caller reports the 401 it got with the first token
    s.creds.invalidate(first);
    s.creds.invalidate(undefined);
    const caller = s.creds.authorization();
    expect(await isSettled(caller)).toBe(true);
    await expect(caller).resolves.toBe(second);
  });
});

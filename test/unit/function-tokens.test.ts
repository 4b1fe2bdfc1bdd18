/**
 * FunctionTokens in-process: a real projected token file, the real exchange code over a
 * Dispatcher the test answers by hand, and a ManualClock for the backoff, to the millisecond.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FunctionTokens } from '../../src/auth/function-tokens.ts';
import { FileSubjectToken } from '../../src/auth/subject-token.ts';
import { TokenExchangeError } from '../../src/errors.ts';
import { flushMicrotasks } from '../helpers/async.ts';
import { FakeDispatcher } from '../helpers/fake-dispatcher.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

const T0 = Date.parse('2026-12-02T10:00:00.000Z');
const SYSTEM_ISSUER = 'https://gw.example.com';
const NO_INVOKE = 'policy does not allow Function:Invoke on dev';

let dir: string;
let tokenFile: string;

beforeAll(async () => {
  const kube = await KubeIssuer.create();
  dir = await mkdtemp(join(tmpdir(), 'cc-fn-tokens-'));
  tokenFile = join(dir, 'openfaas-token');
  const token = await kube.issue({ aud: [SYSTEM_ISSUER], sub: 'system:serviceaccount:openfaas:cron', issuedAt: Math.floor(T0 / 1000), lifetimeSeconds: 3600 });
  await writeFile(tokenFile, token);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

function setup() {
  const clock = new ManualClock(T0);
  const http = new FakeDispatcher();
  const outcomes: boolean[] = [];
  const tokens = new FunctionTokens({
    subjectToken: new FileSubjectToken(tokenFile),
    tokenUrl: 'http://gateway.openfaas:8080/oauth/token',
    systemIssuer: SYSTEM_ISSUER,
    dispatcher: http.dispatcher,
    clock,
    random: () => 0.5,
    onExchange: (ok) => outcomes.push(ok),
  });
  return { clock, http, tokens, outcomes };
}

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<TokenExchangeError> {
  try {
    await promise;
  } catch (err) {
    return err as TokenExchangeError;
  }
  throw new Error('expected a rejection');
}

describe('per-function tokens', () => {
  it('should remember a refusal for the whole namespace and not exchange again before the backoff', async () => {
    const t = setup();
    const first = t.tokens.authorization('dev', 'report');
    const req = await t.http.next();
    expect(req.form.get('audience')).toBe('dev:report');
    req.answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
    const refused = await rejection(first);
    expect(refused.hint).toMatch(/does not grant Function:Invoke/);
    // every other function of dev, at once, without an exchange, until 500 ms have passed
    for (const name of ['report', 'nightly', 'backup']) expect(await rejection(t.tokens.authorization('dev', name))).toBe(refused);
    t.clock.advance(499);
    expect(await rejection(t.tokens.authorization('dev', 'nightly'))).toBe(refused);
    expect(t.http.requests).toHaveLength(1);
    // another namespace is asked on its own
    const staging = t.tokens.authorization('staging', 'report');
    (await t.http.next()).answer(200, { access_token: 'staging-token', token_type: 'Bearer', expires_in: 600 });
    expect(await staging).toBe('Bearer staging-token');
    expect(t.outcomes).toEqual([false, true]);
  });

  it('should back off a namespace that keeps refusing: 500 ms, 1 s, 2 s, ... up to 30 s', async () => {
    const t = setup();
    const delays = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
    let asked = t.tokens.authorization('dev', 'report');
    for (const [i, delay] of delays.entries()) {
      (await t.http.next()).answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
      await rejection(asked);
      t.clock.advance(delay - 1);
      await rejection(t.tokens.authorization('dev', 'report'));
      await flushMicrotasks();
      expect(t.http.requests).toHaveLength(i + 1);
      t.clock.advance(1);
      asked = t.tokens.authorization('dev', 'report');
    }
    (await t.http.next()).answer(200, { access_token: 'at-last', token_type: 'Bearer', expires_in: 600 });
    expect(await asked).toBe('Bearer at-last');
    expect(t.http.requests).toHaveLength(delays.length + 1);
  });

  it('should ask again with one exchange for the namespace when the retry is due, the other functions failing at once meanwhile', async () => {
    const t = setup();
    const first = t.tokens.authorization('dev', 'a');
    (await t.http.next()).answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
    await rejection(first);
    t.clock.advance(500);
    const probe = t.tokens.authorization('dev', 'a');
    // a handler on each at once: a rejection left unobserved across a tick is an unhandled one
    const others = ['b', 'c', 'd'].map((name) => rejection(t.tokens.authorization('dev', name)));
    for (const other of others) expect((await other).description).toBe(NO_INVOKE);
    (await t.http.next()).answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
    await rejection(probe);
    expect(t.http.requests).toHaveLength(2);
  });

  it('should count exchanges refused together as one attempt: the first retry is still 500 ms later', async () => {
    const t = setup();
    // a handler on each at once: the first is refused while the others' requests are still awaited
    const asked = ['a', 'b', 'c', 'd'].map((name) => rejection(t.tokens.authorization('dev', name)));
    for (let i = 0; i < 4; i++) (await t.http.next()).answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
    for (const a of asked) expect((await a).description).toBe(NO_INVOKE);
    t.clock.advance(499);
    await rejection(t.tokens.authorization('dev', 'a'));
    t.clock.advance(1);
    const retry = t.tokens.authorization('dev', 'a');
    (await t.http.next()).answer(200, { access_token: 'token-a', token_type: 'Bearer', expires_in: 600 });
    expect(await retry).toBe('Bearer token-a');
    expect(t.http.requests).toHaveLength(5);
  });

  it('should forget the refusal once an exchange for the namespace succeeds', async () => {
    const t = setup();
    const first = t.tokens.authorization('dev', 'a');
    (await t.http.next()).answer(400, { error: 'invalid_request', error_description: NO_INVOKE });
    await rejection(first);
    t.clock.advance(500);
    const second = t.tokens.authorization('dev', 'a');
    (await t.http.next()).answer(200, { access_token: 'token-a', token_type: 'Bearer', expires_in: 600 });
    expect(await second).toBe('Bearer token-a');
    const other = t.tokens.authorization('dev', 'b');
    (await t.http.next()).answer(200, { access_token: 'token-b', token_type: 'Bearer', expires_in: 600 });
    expect(await other).toBe('Bearer token-b');
    // cached until 80% of its life
    t.clock.advance(479_999);
    expect(await t.tokens.authorization('dev', 'a')).toBe('Bearer token-a');
    expect(t.http.requests).toHaveLength(3);
  });
});

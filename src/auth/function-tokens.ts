/**
 * Per-function access tokens for functions deployed with jwt_auth=true: the connector's
 * ServiceAccount token (its SubjectTokenSource, shared with IamCredentials) is
 * exchanged with scope=function and audience=<namespace>:<name>; each token is cached per
 * function until 80% of its life, and concurrent callers share one exchange.
 *
 * A failed exchange is remembered for its namespace (an IAM Policy grants Function:Invoke per
 * namespace, so a refusal for one function is the answer for all of them there) and retried
 * with backoff (500 ms doubling to 30 s, as the connector's own token): while it is remembered,
 * callers get the same error at once, without an exchange, and once it is due one exchange asks
 * again for the namespace. A Policy without Function:Invoke costs one exchange per namespace per
 * backoff step, not one per function per slot.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.ts';
import { exchangeToken, type IssuedToken } from './exchange.ts';
import { backoffDelay, tokenTimes } from './iam.ts';
import type { SubjectToken, SubjectTokenSource } from './subject-token.ts';

/** Where and how a per-function token is asked for. */
export interface FunctionExchange {
  readonly tokenUrl: string;
  readonly systemIssuer: string;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
}

/** The audience of the per-function token for `<name>.<namespace>`. */
export function functionAudience(namespace: string, name: string): string {
  return `${namespace}:${name}`;
}

/**
 * One per-function exchange (scope=function, audience=<namespace>:<name>), uncached: what
 * FunctionTokens does for every token it caches, and what `cron-connector doctor` tries once.
 */
export function exchangeFunctionToken(x: FunctionExchange, subject: SubjectToken, namespace: string, name: string): Promise<IssuedToken> {
  return exchangeToken(x.dispatcher, {
    tokenUrl: x.tokenUrl,
    subjectToken: subject.token,
    subject: subject.claims,
    systemIssuer: x.systemIssuer,
    timeoutMs: x.timeoutMs,
    scope: 'function',
    audience: functionAudience(namespace, name),
  });
}

export interface FunctionTokensOptions {
  /** The ServiceAccount token to exchange (not stopped here: IamCredentials owns it). */
  readonly subjectToken: SubjectTokenSource;
  readonly tokenUrl: string;
  readonly systemIssuer: string;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly exchangeTimeoutMs?: number;
  readonly onExchange?: (ok: boolean) => void;
  readonly random?: () => number;
}

interface Cached {
  readonly header: string;
  readonly renewAt: number;
}

interface Failure {
  readonly error: Error;
  readonly attempts: number;
  readonly retryAt: number;
  /** Once the retry time has passed, one exchange asks again for the namespace; the rest wait for its answer. */
  probing: boolean;
}

const PRUNE_ABOVE = 1024;

export class FunctionTokens {
  private readonly opts: FunctionTokensOptions;
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  /** The last failed exchange per namespace, until its retry time. */
  private readonly failures = new Map<string, Failure>();

  constructor(opts: FunctionTokensOptions) {
    this.opts = opts;
  }

  /** `Bearer <token>` for invoking `<name>.<namespace>`; rejects at once while a refusal for its namespace is remembered. */
  authorization(namespace: string, name: string): Promise<string> {
    const audience = functionAudience(namespace, name);
    const now = this.opts.clock.now();
    const cached = this.cache.get(audience);
    if (cached !== undefined && now < cached.renewAt) return Promise.resolve(cached.header);
    let pending = this.inflight.get(audience);
    if (pending !== undefined) return pending;
    const failure = this.failures.get(namespace);
    if (failure !== undefined) {
      if (now < failure.retryAt || failure.probing) return Promise.reject(failure.error);
      failure.probing = true;
    }
    pending = this.exchange(namespace, name, audience, failure).finally(() => this.inflight.delete(audience));
    this.inflight.set(audience, pending);
    return pending;
  }

  /** Drops a token the function refused (401), so the next call exchanges again. */
  invalidate(namespace: string, name: string, refused: string): void {
    const audience = functionAudience(namespace, name);
    if (this.cache.get(audience)?.header === refused) this.cache.delete(audience);
  }

  /** `before`: the namespace's failure when this exchange started (exchanges started together count as one attempt). */
  private async exchange(namespace: string, name: string, audience: string, before: Failure | undefined): Promise<string> {
    const { clock } = this.opts;
    try {
      const projected = await this.opts.subjectToken.current();
      const issued = await exchangeFunctionToken({ ...this.opts, timeoutMs: this.opts.exchangeTimeoutMs ?? 10_000 }, projected, namespace, name);
      const now = clock.now();
      const header = `Bearer ${issued.accessToken}`;
      this.prune(now);
      this.cache.set(audience, { header, renewAt: tokenTimes(issued, now).renewAt });
      this.failures.delete(namespace);
      this.opts.onExchange?.(true);
      return header;
    } catch (err) {
      this.opts.onExchange?.(false);
      const error = err instanceof Error ? err : new Error(String(err));
      const current = this.failures.get(namespace);
      // another exchange that started with this one has already recorded the failure
      if (current === undefined || current === before) {
        const attempts = (before?.attempts ?? 0) + 1;
        this.failures.set(namespace, { error, attempts, retryAt: clock.now() + backoffDelay(attempts, this.opts.random), probing: false });
      }
      throw error;
    }
  }

  private prune(now: number): void {
    if (this.cache.size < PRUNE_ABOVE) return;
    for (const [key, value] of this.cache) if (value.renewAt <= now) this.cache.delete(key);
  }
}

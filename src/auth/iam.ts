/**
 * IAM mode: keeps a fresh OpenFaaS access token obtained by exchanging the connector's
 * ServiceAccount token (from its SubjectTokenSource: the projected token file, or a token minted
 * with the TokenRequest API; src/auth/subject-token.ts).
 * - renews in the background at 80% of the token's life (from expires_in and the JWT exp), so
 *   callers at the top of a minute never wait for an exchange;
 * - concurrent callers share one in-flight exchange;
 * - after a 401 the token is dropped and the next caller exchanges again;
 * - a refused exchange is logged with the OAuth description and the subject, then retried with
 *   capped exponential backoff until it succeeds: the process stays up and recovers by itself.
 */
import type { Dispatcher } from 'undici';
import type { Clock, TimerHandle } from '../clock.ts';
import { formatDuration } from '../duration.ts';
import { ConnectorError, KubeApiError, TokenExchangeError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Credentials } from './credentials.ts';
import { exchangeToken, type IssuedToken } from './exchange.ts';
import type { SubjectTokenSource } from './subject-token.ts';

export interface IamOptions {
  /** The ServiceAccount token to exchange; stopped with these credentials. */
  readonly subjectToken: SubjectTokenSource;
  readonly tokenUrl: string;
  readonly systemIssuer: string;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly exchangeTimeoutMs?: number;
  /** Called after an exchange succeeds following failures (e.g. to rediscover at once). */
  readonly onRecovered?: () => void;
  /** Called after every exchange attempt (metrics). */
  readonly onExchange?: (ok: boolean) => void;
}

export const RENEW_AT_FRACTION = 0.8;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
const DEFAULT_EXCHANGE_TIMEOUT_MS = 10_000;
/** Lifetime assumed when the gateway announces none and the token does not decode. */
const FALLBACK_LIFETIME_MS = 5 * 60_000;

interface CurrentToken {
  readonly header: string;
  readonly obtainedAt: number;
  readonly expiresAt: number;
  readonly renewAt: number;
}

interface Failure {
  readonly error: Error;
  readonly attempts: number;
  readonly retryAt: number;
}

/**
 * Exponential backoff with ±20% jitter, capped (the jitter may take it 20% past the cap). `attempt`
 * starts at 1; the defaults are the token exchange's (500 ms doubling to 30 s).
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  { baseMs, capMs }: { readonly baseMs: number; readonly capMs: number } = { baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS },
): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

export function tokenTimes(issued: IssuedToken, now: number): Omit<CurrentToken, 'header'> {
  const candidates = [issued.expiresInMs === undefined ? undefined : now + issued.expiresInMs, issued.expMs].filter(
    (t): t is number => t !== undefined,
  );
  const expiresAt = candidates.length > 0 ? Math.min(...candidates) : now + FALLBACK_LIFETIME_MS;
  const lifetime = Math.max(0, expiresAt - now);
  return { obtainedAt: now, expiresAt, renewAt: now + lifetime * RENEW_AT_FRACTION };
}

export class IamCredentials implements Credentials {
  readonly mode = 'iam';
  private readonly opts: IamOptions;
  private current: CurrentToken | undefined;
  private inflight: Promise<string> | undefined;
  private failure: Failure | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private everReady = false;

  constructor(opts: IamOptions) {
    this.opts = opts;
  }

  get ready(): boolean {
    return this.everReady;
  }

  async authorization(): Promise<string> {
    const now = this.opts.clock.now();
    const current = this.current;
    if (current !== undefined && now < current.expiresAt) {
      // due for renewal, and not waiting out the backoff of a failed one (its timer retries)
      if (now >= current.renewAt && (this.failure === undefined || now >= this.failure.retryAt)) this.refreshInBackground();
      return current.header;
    }
    if (this.failure !== undefined && now < this.failure.retryAt && this.inflight === undefined) {
      throw this.failure.error;
    }
    return this.refresh();
  }

  invalidate(refused: string | undefined): void {
    if (refused !== undefined && this.current?.header === refused) this.current = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.opts.subjectToken.stop();
  }

  /** Starts the first exchange without waiting for it (errors are logged and retried). */
  start(): void {
    this.refreshInBackground();
  }

  private refreshInBackground(): void {
    this.refresh().catch(() => undefined);
  }

  private refresh(): Promise<string> {
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async exchange(): Promise<string> {
    const { clock } = this.opts;
    let subject = this.opts.subjectToken.subject;
    try {
      const projected = await this.opts.subjectToken.current();
      subject = projected.claims.sub ?? subject;
      const issued = await exchangeToken(this.opts.dispatcher, {
        tokenUrl: this.opts.tokenUrl,
        subjectToken: projected.token,
        subject: projected.claims,
        systemIssuer: this.opts.systemIssuer,
        timeoutMs: this.opts.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS,
      });
      return this.succeeded(issued, subject, clock.now());
    } catch (err) {
      throw this.failed(err, subject);
    }
  }

  private succeeded(issued: IssuedToken, subject: string | undefined, now: number): string {
    this.opts.onExchange?.(true);
    const recovered = this.failure !== undefined;
    const times = tokenTimes(issued, now);
    this.current = { header: `Bearer ${issued.accessToken}`, ...times };
    this.failure = undefined;
    const fields = {
      subject,
      policies: issued.policies,
      expiresIn: formatDuration(times.expiresAt - now),
      renewIn: formatDuration(times.renewAt - now),
    };
    if (!this.everReady || recovered) this.opts.logger.info(fields, 'Access token obtained');
    else this.opts.logger.debug(fields, 'Access token renewed');
    this.everReady = true;
    this.arm(times.renewAt - now);
    if (recovered) this.opts.onRecovered?.();
    return this.current.header;
  }

  private failed(err: unknown, subject: string | undefined): Error {
    this.opts.onExchange?.(false);
    const now = this.opts.clock.now();
    const attempts = (this.failure?.attempts ?? 0) + 1;
    const delay = backoffDelay(attempts);
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure = { error, attempts, retryAt: now + delay };
    const fields: Record<string, unknown> = {
      code: err instanceof ConnectorError ? err.code : undefined,
      error: err instanceof TokenExchangeError && err.description !== undefined ? err.description : describeError(err),
      subject: err instanceof TokenExchangeError ? (err.subject ?? subject) : subject,
      status: err instanceof TokenExchangeError || err instanceof KubeApiError ? err.status : undefined,
      attempt: attempts,
      retryIn: formatDuration(delay),
      hint: err instanceof ConnectorError ? err.hint : undefined,
    };
    this.opts.logger.error(fields, 'Token exchange failed');
    // A still-valid token keeps being used; renewal is retried on the backoff schedule.
    this.arm(delay);
    return error;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimer(() => this.refreshInBackground(), Math.max(0, ms));
  }
}

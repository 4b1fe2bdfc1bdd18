/**
 * Per-function access tokens for functions deployed with jwt_auth=true: the projected token is
 * exchanged with scope=function and audience=<namespace>:<name>; each token is cached per
 * function until 80% of its life, and concurrent callers share one exchange.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.ts';
import { exchangeToken } from './exchange.ts';
import { tokenTimes } from './iam.ts';
import { readProjectedToken } from './token-file.ts';

export interface FunctionTokensOptions {
  readonly tokenFile: string;
  readonly tokenUrl: string;
  readonly systemIssuer: string;
  readonly dispatcher: Dispatcher;
  readonly clock: Clock;
  readonly exchangeTimeoutMs?: number;
  readonly onExchange?: (ok: boolean) => void;
}

interface Cached {
  readonly header: string;
  readonly renewAt: number;
}

const PRUNE_ABOVE = 1024;

export class FunctionTokens {
  private readonly opts: FunctionTokensOptions;
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(opts: FunctionTokensOptions) {
    this.opts = opts;
  }

  /** `Bearer <token>` for invoking `<name>.<namespace>`. */
  authorization(namespace: string, name: string): Promise<string> {
    const audience = `${namespace}:${name}`;
    const cached = this.cache.get(audience);
    if (cached !== undefined && this.opts.clock.now() < cached.renewAt) return Promise.resolve(cached.header);
    let pending = this.inflight.get(audience);
    if (pending === undefined) {
      pending = this.exchange(audience).finally(() => this.inflight.delete(audience));
      this.inflight.set(audience, pending);
    }
    return pending;
  }

  /** Drops a token the function refused (401), so the next call exchanges again. */
  invalidate(namespace: string, name: string, refused: string): void {
    const audience = `${namespace}:${name}`;
    if (this.cache.get(audience)?.header === refused) this.cache.delete(audience);
  }

  private async exchange(audience: string): Promise<string> {
    const { clock } = this.opts;
    try {
      const projected = await readProjectedToken(this.opts.tokenFile);
      const issued = await exchangeToken(this.opts.dispatcher, {
        tokenUrl: this.opts.tokenUrl,
        subjectToken: projected.token,
        subject: projected.claims,
        systemIssuer: this.opts.systemIssuer,
        timeoutMs: this.opts.exchangeTimeoutMs ?? 10_000,
        scope: 'function',
        audience,
      });
      const now = clock.now();
      const header = `Bearer ${issued.accessToken}`;
      this.prune(now);
      this.cache.set(audience, { header, renewAt: tokenTimes(issued, now).renewAt });
      this.opts.onExchange?.(true);
      return header;
    } catch (err) {
      this.opts.onExchange?.(false);
      throw err;
    }
  }

  private prune(now: number): void {
    if (this.cache.size < PRUNE_ABOVE) return;
    for (const [key, value] of this.cache) if (value.renewAt <= now) this.cache.delete(key);
  }
}

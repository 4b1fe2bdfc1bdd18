/**
 * token_source=kubernetes: the connector mints its own ServiceAccount token with the TokenRequest
 * API (`POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`, audience = system_issuer),
 * instead of reading a projected token the kubelet writes. For a connector outside a Pod, e.g. on
 * a laptop with KUBECONFIG pointing at the cluster.
 * - each token is requested for TOKEN_EXPIRATION_SECONDS (the API's minimum is 600) and renewed in
 *   the background at 80% of its life (from status.expirationTimestamp and the JWT exp, the
 *   earlier), so an exchange never waits for the Kubernetes API;
 * - concurrent callers share one request;
 * - a failed renewal is retried in the background with capped exponential backoff (500 ms doubling
 *   to 30 s, as the token exchange) and logged, while the last good token keeps being handed out
 *   until it expires;
 * - without a valid token, a caller's request mints one at once and gets the error if that fails
 *   (a KubeApiError whose diagnosis names the RBAC rule, the missing ServiceAccount or the
 *   kubeconfig to fix): the callers retry on their own backoff and report it, so a token is
 *   minted the moment it is needed again, not on a timer of its own;
 * - the Kubernetes client (@kubernetes/client-node) is loaded at the first request, through
 *   `connect`, so nothing pays for it unless this source is used.
 * The token is never logged and never part of an error.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { ServiceAccountRef } from '../config.ts';
import { formatDuration } from '../duration.ts';
import { ConnectorError, KubeApiError, describeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { RENEW_AT_FRACTION, backoffDelay } from './iam.ts';
import type { SubjectToken, SubjectTokenSource } from './subject-token.ts';
import { decodeClaims } from './token-file.ts';

/** What the connector asks for: an hour, like a projected volume's default. */
export const TOKEN_EXPIRATION_SECONDS = 3600;
/** The TokenRequest API refuses (422) anything shorter. */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
/** The limit for one TokenRequest call. */
export const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

export interface TokenRequestSpec {
  readonly namespace: string;
  readonly name: string;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
}

export interface MintedToken {
  readonly token: string;
  /** status.expirationTimestamp, ms since the epoch, when the answer had one. */
  readonly expiresAtMs: number | undefined;
}

/** The TokenRequest API as this source needs it: src/kube/token-request.ts, or a fake in tests. */
export interface TokenRequestClient {
  /** Where its credentials come from, for messages: `kubeconfig context "x"`, `in-cluster ServiceAccount`. */
  readonly credentials: string;
  /** Rejects with a KubeApiError carrying a diagnosis. */
  createToken(spec: TokenRequestSpec, signal: AbortSignal): Promise<MintedToken>;
}

export interface KubeTokenOptions {
  readonly serviceAccount: ServiceAccountRef;
  /** The audience of the token: system_issuer. */
  readonly audience: string;
  readonly clock: Clock;
  /** Connects to the Kubernetes API (called at the first request, again after it failed). */
  readonly connect: () => Promise<TokenRequestClient>;
  /** Renewals are logged (the first token and recoveries at info, the others at debug); failed renewals while the token is still valid at warn. */
  readonly logger?: Logger | undefined;
  /** Default TOKEN_EXPIRATION_SECONDS; at least MIN_TOKEN_EXPIRATION_SECONDS. */
  readonly expirationSeconds?: number | undefined;
  /** For the backoff's jitter. */
  readonly random?: (() => number) | undefined;
}

interface HeldToken {
  readonly token: SubjectToken;
  readonly obtainedAt: number;
  readonly expiresAt: number;
  readonly renewAt: number;
}

/** The last failed request, for the backoff of background renewals. */
interface Failure {
  readonly attempts: number;
  readonly retryAt: number;
}

/** `system:serviceaccount:<namespace>:<name>`, the `sub` of its tokens. */
export function serviceAccountSubject(sa: ServiceAccountRef): string {
  return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

export class KubeTokenSource implements SubjectTokenSource {
  readonly description: string;
  readonly subject: string;
  private readonly opts: KubeTokenOptions;
  private readonly expirationSeconds: number;
  private readonly ref: string;
  private readonly aborter = new AbortController();
  private client: TokenRequestClient | undefined;
  private held: HeldToken | undefined;
  private failure: Failure | undefined;
  private inflight: Promise<SubjectToken> | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(opts: KubeTokenOptions) {
    const seconds = opts.expirationSeconds ?? TOKEN_EXPIRATION_SECONDS;
    if (!Number.isSafeInteger(seconds) || seconds < MIN_TOKEN_EXPIRATION_SECONDS) {
      throw new RangeError(`expirationSeconds must be a whole number of at least ${MIN_TOKEN_EXPIRATION_SECONDS}, got ${seconds}`);
    }
    this.opts = opts;
    this.expirationSeconds = seconds;
    this.ref = `${opts.serviceAccount.namespace}/${opts.serviceAccount.name}`;
    this.description = `ServiceAccount ${this.ref} (TokenRequest)`;
    this.subject = serviceAccountSubject(opts.serviceAccount);
  }

  /** Where the Kubernetes credentials come from, once connected. */
  get credentials(): string | undefined {
    return this.client?.credentials;
  }

  /** When the token handed out now expires, if there is one (ms since the epoch). */
  get expiresAt(): number | undefined {
    return this.held?.expiresAt;
  }

  current(): Promise<SubjectToken> {
    const now = this.opts.clock.now();
    const held = this.held;
    if (held !== undefined && now < held.expiresAt) {
      // due for renewal, and not waiting out the backoff of a failed one (its timer retries)
      if (now >= held.renewAt && (this.failure === undefined || now >= this.failure.retryAt)) this.renewInBackground();
      return Promise.resolve(held.token);
    }
    return this.mint();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.aborter.abort(new Error('stopped'));
  }

  private renewInBackground(): void {
    this.mint().catch(() => undefined);
  }

  private mint(): Promise<SubjectToken> {
    this.inflight ??= this.request().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async request(): Promise<SubjectToken> {
    try {
      this.client ??= await this.opts.connect();
      const { namespace, name } = this.opts.serviceAccount;
      const minted = await this.client.createToken(
        { namespace, name, audiences: [this.opts.audience], expirationSeconds: this.expirationSeconds },
        this.aborter.signal,
      );
      return this.succeeded(minted, this.opts.clock.now());
    } catch (err) {
      throw this.failed(err);
    }
  }

  private succeeded(minted: MintedToken, now: number): SubjectToken {
    const claims = decodeClaims(minted.token);
    const candidates = [minted.expiresAtMs, claims.expMs].filter((t): t is number => t !== undefined && Number.isFinite(t));
    const expiresAt = candidates.length > 0 ? Math.min(...candidates) : now + this.expirationSeconds * 1000;
    if (expiresAt <= now) {
      const at = new Date(expiresAt).toISOString();
      throw new KubeApiError(`the token minted for ServiceAccount ${this.ref} expires at ${at}, which this machine's clock says is past`, {
        diagnosis: {
          cause: `this machine's clock is ahead of the Kubernetes API server's: a token the API server minted for ${this.expirationSeconds}s has already expired here (expires ${at})`,
          fix: "synchronise this machine's clock (NTP); the connector keeps retrying",
        },
      });
    }
    const first = this.held === undefined;
    const recovered = this.failure !== undefined;
    const renewAt = now + (expiresAt - now) * RENEW_AT_FRACTION;
    const token: SubjectToken = { token: minted.token, claims };
    this.held = { token, obtainedAt: now, expiresAt, renewAt };
    this.failure = undefined;
    const fields = {
      serviceAccount: this.ref,
      kubernetes: this.client?.credentials,
      audience: this.opts.audience,
      expiresIn: formatDuration(expiresAt - now),
      renewIn: formatDuration(renewAt - now),
    };
    if (first || recovered) this.opts.logger?.info(fields, 'ServiceAccount token obtained');
    else this.opts.logger?.debug(fields, 'ServiceAccount token renewed');
    this.arm(renewAt - now);
    return token;
  }

  private failed(err: unknown): Error {
    const now = this.opts.clock.now();
    const attempts = (this.failure?.attempts ?? 0) + 1;
    const delay = backoffDelay(attempts, this.opts.random);
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure = { attempts, retryAt: now + delay };
    const held = this.held;
    if (held === undefined || now >= held.expiresAt) {
      // callers get this error, report it and retry on their own backoff
      this.timer?.cancel();
      return error;
    }
    // While the last token is valid nobody else sees this error (callers keep getting that token): say it here.
    if (!this.stopped) {
      this.opts.logger?.warn(
        {
          serviceAccount: this.ref,
          code: err instanceof ConnectorError ? err.code : undefined,
          error: describeError(err),
          status: err instanceof KubeApiError ? err.status : undefined,
          attempt: attempts,
          retryIn: formatDuration(delay),
          validFor: formatDuration(held.expiresAt - now),
          hint: err instanceof ConnectorError ? err.hint : undefined,
        },
        'ServiceAccount token renewal failed, keeping the current token until it expires',
      );
    }
    this.arm(delay);
    return error;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimer(() => this.renewInBackground(), Math.max(0, ms));
  }
}

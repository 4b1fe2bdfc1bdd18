/**
 * The gateway calls an Invoker makes (invoke, invokeTo, warm), answered by hand: each call is held
 * until the test settles it, so a test decides when every call ends, to the millisecond of a
 * ManualClock.
 */
import { formatDuration } from '../../src/duration.ts';
import type { Clock } from '../../src/clock.ts';
import { GatewayError } from '../../src/errors.ts';
import type { GatewayClient, InvokeReceiver, InvokeRequest, InvokeResult } from '../../src/gateway/client.ts';
import { deferred, type Deferred } from './async.ts';

export interface HeldCall {
  readonly req: InvokeRequest;
  /** Clock time when invoke() was called. */
  readonly at: number;
  /** Answers with a status (and optional headers, body size, X-Call-Id). */
  answer(status: number, opts?: { headers?: Record<string, string>; bytes?: number; callId?: string }): void;
  /** Fails as the real client does: a network error or a timeout (without a diagnosis). */
  fail(kind: 'network' | 'timeout'): void;
  readonly settled: boolean;
}

export interface WarmCall {
  readonly at: number;
  readonly signal: AbortSignal | undefined;
}

export class FakeInvokeClient implements Pick<GatewayClient, 'invoke' | 'invokeTo' | 'warm'> {
  readonly calls: HeldCall[] = [];
  readonly warms: WarmCall[] = [];
  /** What warm() does: resolve (default) or reject with this error. */
  warmError: Error | undefined;
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  invoke(req: InvokeRequest): Promise<InvokeResult> {
    const d: Deferred<InvokeResult> = deferred();
    let settled = false;
    const path = `${req.async ? '/async-function/' : '/function/'}${req.name}.${req.namespace}`;
    this.calls.push({
      req,
      at: this.clock.now(),
      get settled() {
        return settled;
      },
      answer(status, opts = {}) {
        settled = true;
        d.resolve({ status, bytes: opts.bytes ?? 0, callId: opts.callId, headers: opts.headers ?? {} });
      },
      fail(kind) {
        settled = true;
        d.reject(
          kind === 'network'
            ? new GatewayError('E_GATEWAY_NETWORK', `POST ${path} failed: other side closed (UND_ERR_SOCKET)`, { path })
            : new GatewayError('E_GATEWAY_TIMEOUT', `POST ${path} timed out after ${formatDuration(req.timeoutMs)}`, { path }),
        );
      },
    });
    return d.promise;
  }

  /** As GatewayClient's: the same held call, its outcome told to the receiver (never synchronously). */
  invokeTo<C>(req: InvokeRequest, receiver: InvokeReceiver<C>, context: C): void {
    this.invoke(req).then(
      (res) => receiver.answered(res, context),
      (err: unknown) => receiver.failed(err, context),
    );
  }

  warm(signal?: AbortSignal): Promise<void> {
    this.warms.push({ at: this.clock.now(), signal });
    return this.warmError === undefined ? Promise.resolve() : Promise.reject(this.warmError);
  }

  /** The `index`th call (negative: from the end); throws when there is none. */
  call(index: number): HeldCall {
    const call = this.calls.at(index);
    if (call === undefined) throw new Error(`no invocation #${index} (${this.calls.length} made)`);
    return call;
  }

  /** Calls not answered yet. */
  get open(): HeldCall[] {
    return this.calls.filter((c) => !c.settled);
  }
}

/**
 * A minimal undici Dispatcher whose requests the test answers by hand, through the dispatch
 * handler API that src/gateway/http.ts drives (so send(), its parsing and its errors are real).
 * `next()` waits for the next request to arrive: requests arrive after real I/O (a projected token
 * file is read first), so tests wait for them instead of sleeping.
 */
import type { Dispatcher } from 'undici';

export interface HeldHttpRequest {
  readonly method: string;
  readonly origin: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The body as a form (token exchange requests are form-encoded). */
  readonly form: URLSearchParams;
  /** Answers with a status and a body (objects are sent as JSON). */
  answer(status: number, body: string | object, headers?: Record<string, string>): void;
  /** Fails the request as a dropped connection would. */
  fail(error: Error): void;
  readonly settled: boolean;
}

export class FakeDispatcher {
  readonly requests: HeldHttpRequest[] = [];
  /** Pass this where a Dispatcher is expected. */
  readonly dispatcher: Dispatcher;
  private handedOut = 0;
  private readonly waiting: Array<(req: HeldHttpRequest) => void> = [];

  constructor() {
    const fake = { dispatch: (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean => this.dispatch(opts, handler) };
    this.dispatcher = fake as unknown as Dispatcher;
  }

  /** The next request not handed out yet, as soon as it arrives. */
  next(): Promise<HeldHttpRequest> {
    const ready = this.requests[this.handedOut];
    if (ready !== undefined) {
      this.handedOut++;
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Requests not answered yet. */
  get open(): HeldHttpRequest[] {
    return this.requests.filter((r) => !r.settled);
  }

  /** Fails every unanswered request (test cleanup: clears send()'s deadline timers). */
  failOpen(): void {
    for (const r of this.open) r.fail(new Error('test ended'));
  }

  private dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let settled = false;
    let aborted: Error | null = null;
    const controller: Dispatcher.DispatchController = {
      get aborted() {
        return aborted !== null;
      },
      get paused() {
        return false;
      },
      get reason() {
        return aborted;
      },
      abort(reason: Error) {
        if (settled) return;
        aborted = reason;
        settled = true;
        handler.onResponseError?.(controller, reason);
      },
      pause: () => undefined,
      resume: () => undefined,
    };
    const body = typeof opts.body === 'string' ? opts.body : '';
    const request: HeldHttpRequest = {
      method: opts.method,
      origin: String(opts.origin),
      path: opts.path,
      headers: { ...(opts.headers as Record<string, string> | undefined) },
      body,
      form: new URLSearchParams(body),
      get settled() {
        return settled;
      },
      answer(status, answer, headers = {}) {
        if (settled) throw new Error(`${opts.path} was already answered`);
        settled = true;
        const bytes = Buffer.from(typeof answer === 'string' ? answer : JSON.stringify(answer));
        const type = typeof answer === 'string' ? 'text/plain' : 'application/json';
        handler.onResponseStart?.(controller, status, { 'content-type': type, ...headers });
        handler.onResponseData?.(controller, bytes);
        handler.onResponseEnd?.(controller, {});
      },
      fail(error) {
        if (settled) return;
        settled = true;
        handler.onResponseError?.(controller, error);
      },
    };
    this.requests.push(request);
    handler.onRequestStart?.(controller, {});
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      this.handedOut++;
      waiter(request);
    }
    return true;
  }
}

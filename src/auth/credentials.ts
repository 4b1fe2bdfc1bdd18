import type { AuthMode } from '../diagnosis.ts';

/** What the gateway client needs from any authentication mode. */
export interface Credentials {
  /** Which mode these are, to explain a 401. */
  readonly mode: AuthMode;
  /** The Authorization header value for REST calls, or undefined when the gateway needs none. */
  authorization(): Promise<string | undefined>;
  /**
   * Reports that the gateway refused `refused` with 401. The next authorization() call gets
   * fresh credentials; concurrent reports of the same value trigger one refresh.
   */
  invalidate(refused: string | undefined): void;
  /** True once credentials have been obtained at least once (readiness). */
  readonly ready: boolean;
  /** Stops background renewal. */
  stop(): void;
}

export const noCredentials: Credentials = {
  mode: 'none',
  authorization: () => Promise.resolve(undefined),
  invalidate: () => undefined,
  ready: true,
  stop: () => undefined,
};

/** What the emulator records, for tests to assert on. Times are ms since the epoch with sub-ms precision. */
import type { ScriptedEnd, ScriptedResponse } from './scripted-response.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The query string without `?`. */
  query: string;
  /** Lowercased keys. */
  headers: Record<string, string>;
  /** Arrival time. */
  at: number;
  /** Response status; 0 while pending or when the connection was dropped without a response. */
  status: number;
  /** The scripted answer given (the object passed to `setFunctionListResponse`, a `respond` fault, …), if any. */
  scriptedResponse?: ScriptedResponse;
  /** Body bytes written by a scripted answer (set only for those), updated while it streams. */
  responseBytes?: number;
  /** How a scripted answer ended; unset while it still streams. */
  scriptedEnd?: ScriptedEnd;
}

export interface Invocation {
  kind: 'sync' | 'async';
  name: string;
  namespace: string;
  /** The request path, e.g. `/function/nodeinfo.dev`. */
  path: string;
  /** Lowercased keys. */
  headers: Record<string, string>;
  body: string;
  /** When the function received the request (after any `slow` fault delay). */
  at: number;
}

export interface ExchangeRecord {
  at: number;
  ok: boolean;
  /** The subject token's `sub`, when it could be decoded. */
  sub?: string;
  /** The `error_description` of a failed exchange. */
  error?: string;
  accessToken?: string;
}

export interface Records {
  readonly requests: RecordedRequest[];
  readonly invocations: Invocation[];
  readonly exchanges: ExchangeRecord[];
  readonly issuedTokens: string[];
}

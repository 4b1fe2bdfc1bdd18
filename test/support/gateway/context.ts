/** What endpoint handlers get: the gateway's state and one parsed request. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthConfig } from './auth.ts';
import type { FunctionRegistry } from './function-registry.ts';
import type { IamStore, StoredJwtIssuer } from './iam-store.ts';
import type { RecordedRequest, Records } from './records.ts';
import type { ScriptedLists } from './scripted-response.ts';

export interface GatewayContext {
  readonly auth: AuthConfig;
  readonly iam: IamStore;
  readonly registry: FunctionRegistry;
  readonly records: Records;
  /** Answers that replace the real listings (per namespace for functions). */
  readonly scripted: ScriptedLists;
  /** Aborts when the gateway closes: pending delays and hangs end. */
  readonly closing: AbortSignal;
  /** Lifetime of access tokens issued for subject tokens from `issuer`. */
  readonly lifetimeSeconds: (issuer: StoredJwtIssuer) => number;
}

export interface GatewayRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly body: Buffer;
  /** This request's record. */
  readonly record: RecordedRequest;
}

export type Handler = (context: GatewayContext, request: GatewayRequest) => Promise<void>;

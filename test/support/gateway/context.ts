/** What endpoint handlers get: the gateway's state and one parsed request. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthConfig } from './auth.ts';
import type { FunctionRegistry } from './function-registry.ts';
import type { IamStore, StoredJwtIssuer } from './iam-store.ts';
import type { Records } from './records.ts';

export interface GatewayContext {
  readonly auth: AuthConfig;
  readonly iam: IamStore;
  readonly registry: FunctionRegistry;
  readonly records: Records;
  /** Aborts when the gateway closes: pending delays and hangs end. */
  readonly closing: AbortSignal;
  /** Lifetime of access tokens issued for subject tokens from `issuer`. */
  lifetimeSeconds(issuer: StoredJwtIssuer): number;
}

export interface GatewayRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly body: Buffer;
}

export type Handler = (context: GatewayContext, request: GatewayRequest) => Promise<void>;

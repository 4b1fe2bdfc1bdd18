/**
 * The ServiceAccount token the connector exchanges at the gateway (the RFC 8693 subject token),
 * from one of two sources (token_source):
 * - file: the projected token the kubelet writes at token_mount_path/openfaas-token and rotates;
 *   read again for every exchange (FileSubjectToken, below);
 * - kubernetes: a token minted with the TokenRequest API for token_service_account and renewed
 *   before it expires (KubeTokenSource, src/auth/kube-token.ts), for a connector outside a Pod.
 * IamCredentials and FunctionTokens ask the source for the current token and never see where it
 * comes from. Neither source ever logs the token or puts it in an error.
 */
import { readProjectedToken, type ProjectedToken } from './token-file.ts';

/** A ServiceAccount JWT and its claims (the claims are safe to log, the token never is). */
export type SubjectToken = ProjectedToken;

export interface SubjectTokenSource {
  /** Where the token comes from, for messages: the file's path, or the ServiceAccount. */
  readonly description: string;
  /** The token's `sub` when it is known before the token is (a configured ServiceAccount), for messages. */
  readonly subject: string | undefined;
  /** The current token. Rejects with a ConnectorError whose diagnosis says what to fix. */
  current(): Promise<SubjectToken>;
  /** Stops background renewal, if the source has any. */
  stop(): void;
}

/** token_source=file: the projected token, read from disk for every exchange, never cached. */
export class FileSubjectToken implements SubjectTokenSource {
  readonly path: string;
  readonly description: string;
  readonly subject = undefined;

  constructor(path: string) {
    this.path = path;
    this.description = path;
  }

  current(): Promise<SubjectToken> {
    return readProjectedToken(this.path);
  }

  stop(): void {
    // nothing runs in the background: the kubelet rotates the file
  }
}

/** Small node:http helpers: bounded body reading, plain-text/JSON responses, and typed HTTP errors. */
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Thrown by handlers to answer with `status` and a plain-text `message`. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;

  constructor(status: number, message: string, headers: OutgoingHttpHeaders = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/** Reads the whole body; past `limitBytes` it drains the rest (so the client sees the answer) and throws 413. */
export async function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size <= limitBytes) chunks.push(buffer);
  }
  if (size > limitBytes) throw new HttpError(413, `request body larger than ${limitBytes} bytes`);
  return Buffer.concat(chunks);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, text, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

export function send(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Answers any error: HttpError as-is, anything else as a 500. Never throws. */
export function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) {
    sendText(res, error.status, error.message, error.headers);
    return;
  }
  const detail = error instanceof Error ? error.message : String(error);
  sendText(res, 500, `internal error: ${detail}`);
}

export function methodNotAllowed(allowed: string): HttpError {
  return new HttpError(405, STATUS_CODES[405] ?? 'Method Not Allowed', { allow: allowed });
}

/** Request headers with lowercased keys; repeated headers joined with `, `. */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The Bearer token of an `Authorization` header, if any. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

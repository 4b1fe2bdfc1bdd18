/** node:http helpers for the kube-api emulator: bounded body reading, JSON answers, media types. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubeStatusError, internalError, notAcceptable, requestEntityTooLarge, unsupportedMediaType } from './status.ts';

/** The real server's limit for a request body (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size <= limitBytes) chunks.push(buffer);
  }
  if (size > limitBytes) throw requestEntityTooLarge(`limit is ${limitBytes}`);
  return Buffer.concat(chunks);
}

export interface JsonAnswer {
  status: number;
  body: unknown;
  /** `Warning` headers, e.g. `299 - "unknown field \"spec.foo\""`. */
  warnings?: string[];
  headers?: Record<string, string>;
}

export function sendJson(res: ServerResponse, answer: JsonAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(answer.body);
  res.setHeader('audit-id', randomUUID());
  res.setHeader('cache-control', 'no-cache, private');
  res.setHeader('content-type', 'application/json');
  if (answer.warnings !== undefined && answer.warnings.length > 0) res.setHeader('warning', answer.warnings);
  for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.writeHead(answer.status);
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers any error with a Status: KubeStatusError as-is, anything else as a 500 InternalError. */
export function sendError(res: ServerResponse, error: unknown): void {
  const status = error instanceof KubeStatusError ? error : internalError(error instanceof Error ? error.message : String(error));
  sendJson(res, { status: status.code, body: status.body, headers: status.headers });
}

/** `299 - "<text>"`, as the server's warning recorder writes a Warning header. */
export function warningHeader(text: string): string {
  return `299 - ${JSON.stringify(text)}`;
}

/** The media type of a Content-Type header, lowercased, without parameters ('' when absent). */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export const JSON_MEDIA_TYPE = 'application/json';

/** 406 unless the Accept header (if any) admits `application/json`. */
export function checkAccept(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  const ranges = header.split(',').map((range) => mediaType(range));
  if (ranges.some((range) => range === JSON_MEDIA_TYPE || range === 'application/*' || range === '*/*' || range === '')) return;
  throw notAcceptable([JSON_MEDIA_TYPE]);
}

/** 415 unless a body of a create/update/delete is JSON (an absent Content-Type means JSON, as for the real server). */
export function checkJsonBody(header: string | undefined): void {
  const type = mediaType(header);
  if (type !== '' && type !== JSON_MEDIA_TYPE) throw unsupportedMediaType([JSON_MEDIA_TYPE]);
}

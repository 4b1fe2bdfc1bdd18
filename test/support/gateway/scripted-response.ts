/**
 * Answers the emulator can give instead of the real one, to test how a client copes with what
 * proxies, misconfigured ingresses and broken gateways send: arbitrary bodies (HTML, JSON of the
 * wrong shape), redirects, bodies that dribble in forever, and bodies that never end.
 */
import type { ServerResponse } from 'node:http';
import { sleep } from '../wait.ts';
import { send } from './http-io.ts';

export type RedirectStatus = 301 | 302 | 303 | 307 | 308;

export type ScriptedResponse =
  /** `body` as-is. Default status 200, content type `application/json`; `headers` are added (e.g. Retry-After). */
  | { kind: 'body'; body: string; status?: number; contentType?: string; headers?: Record<string, string> }
  /** A redirect to `location` (any origin), with a small HTML body like Go's http.Redirect. */
  | { kind: 'redirect'; status: RedirectStatus; location: string }
  /**
   * Status 200 and headers at once, then `chunk` every `intervalMs` until the client hangs up or
   * the gateway closes: the body never completes, but bytes keep arriving.
   */
  | { kind: 'dribble'; chunk: string; intervalMs: number }
  /**
   * Status 200, chunked, no Content-Length: `[` then `chunk` repeated as fast as the client reads,
   * until the client hangs up, the gateway closes or `maxBytes` (default 1 GiB) were written.
   */
  | { kind: 'endless'; chunk?: string; maxBytes?: number };

/** Where a scripted answer reports itself (the request's record). */
export interface StreamReport {
  /** The scripted answer given: the very object passed to the emulator. */
  scriptedResponse?: ScriptedResponse;
  /** Body bytes handed to the socket so far. */
  responseBytes?: number;
  /** How the scripted answer ended: fully sent, cut short by the client, or by `close()`. Unset while it runs. */
  scriptedEnd?: ScriptedEnd;
}

export type ScriptedEnd = 'complete' | 'client gone' | 'gateway closed';

/** Scripted answers of the list endpoints: one for `/system/namespaces`, one per namespace for `/system/functions`. */
export class ScriptedLists {
  namespaces: ScriptedResponse | undefined;
  readonly functions = new Map<string, ScriptedResponse>();
}

export const DEFAULT_ENDLESS_CHUNK = '{"name":"filler","image":"ghcr.io/openfaas/filler:latest","annotations":{"topic":"none"}},';
const DEFAULT_MAX_BYTES = 1024 * 1024 * 1024;
const WRITE_SIZE = 64 * 1024;

export function validateScriptedResponse(response: ScriptedResponse): void {
  switch (response.kind) {
    case 'body':
      if (response.status !== undefined && !(Number.isInteger(response.status) && response.status >= 100 && response.status <= 599)) {
        throw new Error(`scripted status must be an HTTP status code, got ${response.status}`);
      }
      return;
    case 'redirect':
      if (![301, 302, 303, 307, 308].includes(response.status)) throw new Error(`redirect status must be 301, 302, 303, 307 or 308, got ${response.status}`);
      return;
    case 'dribble':
      if (response.chunk === '' || !(response.intervalMs > 0)) throw new Error('dribble needs a non-empty chunk and intervalMs > 0');
      return;
    case 'endless':
      if (response.chunk === '') throw new Error('endless needs a non-empty chunk');
      if (response.maxBytes !== undefined && !(response.maxBytes > 0)) throw new Error(`endless maxBytes must be > 0, got ${response.maxBytes}`);
      return;
  }
}

/** Acts out `response`; resolves once it is complete or abandoned. Never throws. */
export async function actOutScriptedResponse(response: ScriptedResponse, res: ServerResponse, closing: AbortSignal, report: StreamReport): Promise<void> {
  report.scriptedResponse = response;
  switch (response.kind) {
    case 'body':
      send(res, response.status ?? 200, response.body, { ...response.headers, 'content-type': response.contentType ?? 'application/json' });
      report.responseBytes = Buffer.byteLength(response.body);
      report.scriptedEnd = 'complete';
      return;
    case 'redirect': {
      const body = `<a href="${escapeHtml(response.location)}">${response.status === 301 ? 'Moved Permanently' : 'Redirect'}</a>.\n`;
      send(res, response.status, body, { location: response.location, 'content-type': 'text/html; charset=utf-8' });
      report.responseBytes = Buffer.byteLength(body);
      report.scriptedEnd = 'complete';
      return;
    }
    case 'dribble':
      await dribble(res, response.chunk, response.intervalMs, closing, report);
      report.scriptedEnd = closing.aborted ? 'gateway closed' : 'client gone';
      return;
    case 'endless': {
      const complete = await endless(res, response.chunk ?? DEFAULT_ENDLESS_CHUNK, response.maxBytes ?? DEFAULT_MAX_BYTES, closing, report);
      report.scriptedEnd = complete ? 'complete' : closing.aborted ? 'gateway closed' : 'client gone';
      return;
    }
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function gone(res: ServerResponse, closing: AbortSignal): boolean {
  return closing.aborted || res.destroyed || res.writableEnded;
}

async function dribble(res: ServerResponse, chunk: string, intervalMs: number, closing: AbortSignal, report: StreamReport): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  res.write('[');
  let written = 1;
  report.responseBytes = written;
  while (!gone(res, closing)) {
    try {
      await sleep(intervalMs, closing);
    } catch {
      break;
    }
    if (gone(res, closing)) break;
    res.write(chunk);
    written += Buffer.byteLength(chunk);
    report.responseBytes = written;
  }
  if (!res.destroyed) res.destroy();
}

/** Resolves true when the whole body (up to maxBytes) was sent, false when abandoned. */
async function endless(res: ServerResponse, chunk: string, maxBytes: number, closing: AbortSignal, report: StreamReport): Promise<boolean> {
  const block = Buffer.from(chunk.repeat(Math.max(1, Math.floor(WRITE_SIZE / Buffer.byteLength(chunk)))));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('[');
  let written = 1;
  report.responseBytes = written;
  while (!gone(res, closing) && written < maxBytes) {
    const more = res.write(block);
    written += block.length;
    report.responseBytes = written;
    if (!more && !(await drained(res, closing))) break;
  }
  if (gone(res, closing)) {
    if (!res.destroyed) res.destroy();
    return false;
  }
  res.end(']');
  return true;
}

/** Resolves true once `res` can take more data, false when the client or the gateway went away. */
function drained(res: ServerResponse, closing: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      closing.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    if (gone(res, closing)) {
      resolve(false);
      return;
    }
    res.once('drain', onDrain);
    res.once('close', onClose);
    closing.addEventListener('abort', onClose, { once: true });
  });
}

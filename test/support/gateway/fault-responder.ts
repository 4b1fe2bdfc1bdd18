/** Acts out a Fault on one request. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sleep } from '../wait.ts';
import type { Fault } from './faults.ts';
import { send, sendText } from './http-io.ts';
import { actOutScriptedResponse } from './scripted-response.ts';
import type { StreamReport } from './scripted-response.ts';

const GARBAGE_BODY = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

/** `handled`: the fault answered (or dropped) the request; `continue`: handle it normally now. */
export type FaultOutcome = 'handled' | 'continue';

export async function actOutFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  closing: AbortSignal,
  report: StreamReport = {},
): Promise<FaultOutcome> {
  switch (fault.kind) {
    case 'down':
      req.socket.destroy();
      return 'handled';
    case 'status':
      sendText(res, fault.status, fault.body ?? `injected fault: ${fault.status}`);
      return 'handled';
    case 'garbage':
      send(res, 200, GARBAGE_BODY, { 'content-type': 'application/json' });
      return 'handled';
    case 'hang':
      await untilClosed(res, closing);
      return 'handled';
    case 'slow':
      await sleep(fault.delayMs, closing);
      return 'continue';
    case 'respond':
      await actOutScriptedResponse(fault.response, res, closing, report);
      return 'handled';
  }
}

/** Resolves when the client goes away or the gateway closes, whichever comes first. */
function untilClosed(res: ServerResponse, closing: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (closing.aborted || res.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      closing.removeEventListener('abort', done);
      res.off('close', done);
      resolve();
    };
    closing.addEventListener('abort', done, { once: true });
    res.once('close', done);
  });
}

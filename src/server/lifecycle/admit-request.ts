import type { ServerResponse } from 'node:http';
import type { AdmissionGate } from './admission-gate.js';

/**
 * Admits the request behind `response` through the global gate and ties the slot to the response's
 * lifetime: released on 'close', whatever way the request ends. A client that goes away while queued
 * leaves the queue; at the drain deadline queued requests are refused with server_shutting_down.
 */
export async function admitRequest(
  admission: AdmissionGate,
  response: ServerResponse,
  drainSignal: AbortSignal,
): Promise<void> {
  // The default configuration has no limits: skip the signals and listeners altogether.
  if (admission.unlimited) return;
  const clientGone = new AbortController();
  const onClose = () => clientGone.abort(new Error('client closed the connection'));
  response.once('close', onClose);
  let release: () => void;
  try {
    release = await admission.admit(AbortSignal.any([clientGone.signal, drainSignal]));
  } finally {
    response.off('close', onClose);
  }
  // The slot may have been granted in the same turn as the client left: give it back at once.
  if (clientGone.signal.aborted) {
    release();
    throw clientGone.signal.reason;
  }
  response.once('close', release);
}

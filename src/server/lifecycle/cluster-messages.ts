/** IPC messages between the cluster primary and its workers. */
export type ClusterMessage =
  /** primary → worker: drain and exit (signals are counted by each process; this is not a signal). */
  | { type: 'gantry:shutdown' }
  /** primary → worker: reload the configuration (the primary got SIGHUP). */
  | { type: 'gantry:reload' }
  /** worker → primary: the worker finished initialisation (migrations run once, by the first). */
  | { type: 'gantry:started' }
  /** worker → primary: aggregate every worker's metrics for a scrape this worker is answering. */
  | { type: 'gantry:metrics-request'; id: number }
  | { type: 'gantry:metrics-response'; id: number; body?: string; contentType?: string; error?: string };

export function isClusterMessage(message: unknown): message is ClusterMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('gantry:')
  );
}

// Types of the undici files `undici-agent.ts` imports directly (undici publishes types for its index only).
declare module 'undici/lib/api/index.js' {
  const api: Record<string, unknown>;
  export default api;
}
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';

  const value: typeof Agent;
  export default value;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import type { Dispatcher } from 'undici';

  const value: typeof Dispatcher;
  export default value;
}

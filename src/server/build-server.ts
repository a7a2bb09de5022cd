import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { randomHex } from '../telemetry/random-hex.js';
import { traceContextFrom } from '../telemetry/trace-context.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandlers } from './error-handler.js';
import type { AdmissionGate } from './lifecycle/admission-gate.js';
import { admitRequest } from './lifecycle/admit-request.js';
import type { EventLoopMonitor } from './lifecycle/event-loop-monitor.js';
import { buildOpenApiDocument } from './openapi.js';
import { parseJsonBody } from './parse-json-body.js';
import type { RequestState } from './request-state.js';
import { registerChatCompletions } from './routes/chat-completions.js';
import { registerEmbeddings } from './routes/embeddings.js';
import { registerInfo } from './routes/info.js';
import { collectFrom, registerMetrics } from './routes/metrics.js';
import { registerModels } from './routes/models.js';
import { registerProbes } from './routes/probes.js';
import { registerSimpleChat } from './routes/simple-chat.js';
import type { ServerContext } from './server-context.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const PROBE_PATHS = new Set(['/health', '/ready', '/startup', '/metrics']);

/** The status to log: 499 (nginx's "client closed request") when the client left before the end. */
function statusOf(response: import('node:http').ServerResponse): number {
  return response.writableFinished ? response.statusCode : 499;
}

function needsAuth(path: string): boolean {
  return path.startsWith('/v1/') || path === '/chat';
}

function pathOf(request: FastifyRequest): string {
  const url = request.url;
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export interface BuildServerOptions {
  /** Collects /metrics; defaults to this process's registry (a cluster primary aggregates workers). */
  readonly collectMetrics?: () => Promise<{ body: string; contentType: string }>;
  /** The global max_inflight/queue gate and lag shedding; without it every request is admitted. */
  readonly admission?: AdmissionGate;
  /** Event-loop lag, for GET /health. */
  readonly eventLoop?: Pick<EventLoopMonitor, 'lagMs'>;
}

/** Builds the Fastify app: hooks, error handling and every route, from explicit dependencies. */
export async function buildServer(
  context: ServerContext,
  options: BuildServerOptions = {},
): Promise<FastifyInstance> {
  const { config } = context.runtime.current;
  const { metrics } = context;
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: config.server.body_limit,
    keepAliveTimeout: config.server.keep_alive_timeout,
    // Receiving a whole request (headers and body) may take this long; it does not limit responses,
    // so streams are unaffected, but a client that announces a body and never sends it is cut off.
    requestTimeout: 120_000,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    genReqId: (raw) => {
      const incoming = raw.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req_${randomHex(16)}`;
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Malformed HTTP and malformed URLs get the same error envelope as every other error (Node's
    // own Host check would answer an empty 400; installErrorHandlers checks Host instead).
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    http: { requireHostHeader: false },
  });

  app.decorateRequest('gantry', null as unknown as RequestState);
  app.removeAllContentTypeParsers();
  const jsonParser = (
    _request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, value?: unknown) => void,
  ) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonParser);
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'buffer' }, jsonParser);

  // Callback-style hooks with a synchronous fast path: an async hook costs a promise and a
  // microtask hop on every request, and most requests need neither (no admission limit set, the
  // master key or no key).
  app.addHook('onRequest', (request, reply, done) => {
    const runtime = context.runtime.current;
    request.gantry = {
      runtime,
      trace: traceContextFrom(request.headers.traceparent),
      startedAt: performance.now(),
      principal: undefined,
      alias: undefined,
      route: undefined,
      stream: false,
      ttftMs: undefined,
      promptTokens: undefined,
      completionTokens: undefined,
      errorCode: undefined,
    };
    reply.header('x-request-id', request.id);
    const path = pathOf(request);
    if (PROBE_PATHS.has(path)) {
      // Probes bypass the gate: an overloaded process is alive, and /metrics must report the overload.
      if (runtime.config.logging.log_probes) {
        reply.raw.once('close', () => finishRequest(request, statusOf(reply.raw)));
      }
      done();
      return;
    }
    let admitted = false;
    reply.raw.once('close', () => {
      if (admitted) metrics.inflight.dec();
      finishRequest(request, statusOf(reply.raw));
    });
    // Past the drain deadline nothing new starts: it would only be cut off.
    if (context.drainSignal.aborted) {
      done(context.drainSignal.reason as Error);
      return;
    }
    const afterAdmission = () => {
      admitted = true;
      metrics.inflight.inc();
      // Also set here for streams, which are hijacked and never pass through onSend.
      if (context.isDraining()) reply.header('connection', 'close');
      if (!needsAuth(path)) return done();
      let principal: ReturnType<typeof context.authenticator.authenticate>;
      try {
        principal = context.authenticator.authenticate(request);
      } catch (error) {
        return done(error as Error);
      }
      if (!(principal instanceof Promise)) {
        request.gantry.principal = principal;
        return done();
      }
      principal.then((value) => {
        request.gantry.principal = value;
        done();
      }, done);
    };
    const gate = options.admission;
    if (!gate || gate.unlimited) afterAdmission();
    else admitRequest(gate, reply.raw, context.drainSignal).then(afterAdmission, done);
  });

  // Draining: responses not yet started tell the client to reconnect elsewhere (another pod).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (context.isDraining() && !PROBE_PATHS.has(pathOf(request))) reply.header('connection', 'close');
    done(null, payload);
  });

  function finishRequest(request: FastifyRequest, statusCode: number) {
    const state = request.gantry;
    const latencyMs = performance.now() - state.startedAt;
    const route = request.routeOptions.url ?? 'unknown';
    const model = state.alias ?? '';
    const status = state.stream && state.errorCode ? 'stream_error' : String(statusCode);
    metrics.requestsTotal.inc({ model, route, status });
    metrics.requestDuration.observe({ model, route }, latencyMs / 1000);
    if (state.ttftMs !== undefined) metrics.ttft.observe({ model }, state.ttftMs / 1000);
    if (state.promptTokens) metrics.tokensTotal.inc({ model, type: 'prompt' }, state.promptTokens);
    if (state.completionTokens)
      metrics.tokensTotal.inc({ model, type: 'completion' }, state.completionTokens);
    const { config: current } = state.runtime;
    if (!current.logging.access_log) return;
    request.log.info(
      {
        trace_id: state.trace.traceId,
        method: request.method,
        route,
        status: statusCode,
        latency_ms: Math.round(latencyMs * 100) / 100,
        model: state.alias,
        deployment: state.route?.deployment,
        upstream_model: state.route?.upstreamModel,
        stream: state.stream,
        ttft_ms: state.ttftMs === undefined ? undefined : Math.round(state.ttftMs * 100) / 100,
        tokens_in: state.promptTokens,
        tokens_out: state.completionTokens,
        retries: state.route?.retries,
        fallback: state.route?.fallback,
        error: state.errorCode,
        key_id: state.principal?.keyId,
      },
      'request',
    );
  }

  // Every registered route (plugins included) with its methods, so a wrong method answers 405.
  const knownRoutes = new Map<string, string[]>();
  app.addHook('onRoute', (route) => {
    const methods = knownRoutes.get(route.url) ?? [];
    for (const method of [route.method].flat())
      if (method !== 'HEAD' && !methods.includes(method)) methods.push(method);
    knownRoutes.set(route.url, methods);
  });
  installErrorHandlers(app, knownRoutes);
  registerInfo(app);
  registerProbes(app, context, options.eventLoop);
  registerMetrics(app, options.collectMetrics ?? collectFrom(metrics.registry));
  const openApiDocument = buildOpenApiDocument();
  app.get('/openapi.json', async () => openApiDocument);
  registerModels(app, Date.now());
  registerChatCompletions(app, context);
  registerEmbeddings(app, context);
  registerSimpleChat(app, context);
  for (const plugin of context.plugins ?? []) await plugin(app);
  return app;
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { chunksToCompletion, completionToChunks } from '../../cache/completion-chunks.js';
import type { ModelAlias } from '../../config/load.js';
import { openConversationTurn } from '../../conversations/conversation-turn.js';
import { isGatewayError } from '../../errors/gateway-error.js';
import { estimatePromptTokens } from '../../providers/estimate-tokens.js';
import { relayedJson } from '../../providers/http/relayed-json.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Usage,
} from '../../providers/openai-types.js';
import { ragSourcesChunk, withRagSources } from '../../rag/rag-chat.js';
import { newRouteInfo, type OpenCall } from '../../routing/router.js';
import { assertAliasAllowed } from '../authenticate.js';
import { toGatewayError } from '../error-handler.js';
import type { Admission } from '../request-policy.js';
import { chatCompletionRequestSchema } from '../schemas/chat-completion-request.js';
import type { ServerContext } from '../server-context.js';
import { settleAdmission } from '../settle-admission.js';
import { endSseDone, endSseWithError, startSse, writeSseData } from '../sse.js';
import { validate } from '../validate.js';

/** `first` is taken, and cleared, by relayStream: the handle lives as long as the stream. */
type StreamHandle = OpenCall<{
  first: ChatCompletionChunk | undefined;
  iterator: AsyncIterator<ChatCompletionChunk>;
}>;

/** Applies the alias's system prompt, if any, ahead of the caller's messages. */
export function withSystemPrompt(alias: ModelAlias, request: ChatCompletionRequest): ChatCompletionRequest {
  if (!alias.systemPrompt) return request;
  return { ...request, messages: [{ role: 'system', content: alias.systemPrompt }, ...request.messages] };
}

/** Aborted when the client goes away before the response is complete, or the server drains. */
export function requestSignal(reply: FastifyReply, drain: AbortSignal): AbortSignal {
  // One controller and one listener: AbortSignal.any() costs several percent of CPU per request.
  const controller = new AbortController();
  if (drain.aborted) {
    controller.abort(drain.reason);
    return controller.signal;
  }
  const onDrain = () => controller.abort(drain.reason);
  drain.addEventListener('abort', onDrain, { once: true });
  reply.raw.once('close', () => {
    drain.removeEventListener('abort', onDrain);
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

function recordUsage(request: FastifyRequest, usage: Usage | undefined | null) {
  if (!usage) return;
  request.gantry.promptTokens = usage.prompt_tokens;
  request.gantry.completionTokens = usage.completion_tokens;
}

export function registerChatCompletions(app: FastifyInstance, context: ServerContext) {
  app.post('/v1/chat/completions', async (request, reply) => {
    const state = request.gantry;
    const body = validate(chatCompletionRequestSchema, request.body) as ChatCompletionRequest;
    // The validated copy is the one used from here on: an open stream must not keep the parsed
    // original (the whole prompt again) for its life.
    request.body = undefined;
    const { router } = state.runtime;
    const alias = router.resolveAlias(body.model);
    state.alias = alias.alias;
    assertAliasAllowed(state.principal, alias.alias);
    // A named conversation: its stored turns go first; the new turns are kept once answered.
    const conversation = await openConversationTurn(
      context.policy.conversations,
      state.principal,
      body,
      request.headers['x-gantry-conversation'],
    );
    const upstreamRequest = withSystemPrompt(alias, conversation?.request ?? body);
    const ceiling = body.max_completion_tokens ?? body.max_tokens ?? 1024;
    const cacheHeader = request.headers['x-gantry-cache'];
    const cached = await context.policy.cache?.lookup({
      principal: state.principal,
      alias,
      request: upstreamRequest,
      header: typeof cacheHeader === 'string' ? cacheHeader : undefined,
    });
    if (cached) reply.header('x-gantry-cache', cached.hit ? 'hit' : 'miss');
    if (cached?.hit) {
      await conversation?.commit(cached.hit);
      return replayCached(request, reply, cached.hit, body, context);
    }
    const admission = await context.policy.admit({
      principal: state.principal,
      alias,
      requestId: request.id,
      estimatedTokens: estimatePromptTokens(upstreamRequest) + ceiling * (body.n ?? 1),
    });
    for (const [name, value] of Object.entries(admission.headers)) reply.header(name, value);
    state.route = newRouteInfo();
    const signal = requestSignal(reply, context.drainSignal);
    const routeContext = {
      signal,
      requestId: request.id,
      traceparent: state.trace.traceparent,
      info: state.route,
    };

    if (!body.stream) {
      let usage: Usage | undefined;
      try {
        const completion = await router.chat(alias.alias, upstreamRequest, routeContext);
        usage = completion.usage;
        recordUsage(request, usage);
        state.ttftMs = performance.now() - state.startedAt;
        await conversation?.commit(completion);
        if (cached) context.policy.cache?.store(cached, completion);
        return withRagSources(request, completion);
      } finally {
        settleAdmission(admission, request, usage, reply.statusCode);
      }
    }

    // Streams keep the upstream's usage chunk for accounting; the client gets it only if it asked.
    const clientWantsUsage = body.stream_options?.include_usage === true;
    const streamRequest = {
      ...upstreamRequest,
      stream_options: { ...body.stream_options, include_usage: true },
    };
    state.stream = true;
    let handle: StreamHandle;
    try {
      handle = await router.chatStream(alias.alias, streamRequest, routeContext);
    } catch (error) {
      settleAdmission(admission, request, undefined, toGatewayError(error).status);
      throw error;
    }
    reply.hijack();
    const storeInCache = cached
      ? (chunks: readonly ChatCompletionChunk[]) => {
          const completion = chunksToCompletion(chunks);
          if (completion) context.policy.cache?.store(cached, completion);
        }
      : undefined;
    const keepTurns = conversation
      ? (chunks: readonly ChatCompletionChunk[]) => conversation.commit(chunksToCompletion(chunks))
      : undefined;
    // Returned, not awaited: this frame (the request in its three shapes) ends here, and the relay
    // keeps only what it needs.
    return relayStream(request, reply, handle, clientWantsUsage, admission, storeInCache, keepTurns);
  });
}

/** Answers from the response cache: the stored completion, or its replay chunk by chunk. */
async function replayCached(
  request: FastifyRequest,
  reply: FastifyReply,
  completion: ChatCompletion,
  body: ChatCompletionRequest,
  context: ServerContext,
) {
  const state = request.gantry;
  const admission = context.policy.cache!.admitHit({
    principal: state.principal,
    alias: state.runtime.router.resolveAlias(body.model),
    requestId: request.id,
    estimatedTokens: 0,
  });
  recordUsage(request, completion.usage);
  state.ttftMs = performance.now() - state.startedAt;
  if (!body.stream) {
    settleAdmission(admission, request, completion.usage, 200);
    return completion;
  }
  state.stream = true;
  reply.hijack();
  const response = reply.raw;
  const headers: Record<string, string> = { 'x-request-id': request.id };
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (typeof value === 'string') headers[name] = value;
  }
  startSse(response, headers);
  try {
    for (const chunk of completionToChunks(completion, body.stream_options?.include_usage === true)) {
      const drained = writeSseData(response, JSON.stringify(chunk));
      if (drained) await drained;
      if (response.destroyed) break;
    }
    if (!response.destroyed) endSseDone(response);
  } finally {
    settleAdmission(admission, request, completion.usage, 200);
  }
}

async function relayStream(
  request: FastifyRequest,
  reply: FastifyReply,
  handle: StreamHandle,
  clientWantsUsage: boolean,
  admission: Admission,
  /** Receives every chunk of a stream that completed (for the response cache). */
  onComplete?: (chunks: readonly ChatCompletionChunk[]) => void,
  /** Runs on a completed stream before [DONE] (conversations); if it fails, an SSE error replaces [DONE]. */
  beforeDone?: (chunks: readonly ChatCompletionChunk[]) => Promise<void>,
) {
  const response = reply.raw;
  const state = request.gantry;
  const headers: Record<string, string> = { 'x-request-id': request.id };
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (typeof value === 'string') headers[name] = value;
  }
  startSse(response, headers);
  let usage: Usage | undefined;
  let failure: unknown;
  let chunk: ChatCompletionChunk | undefined = handle.value.first;
  // Not kept for the stream's life (about 0.7 KB per open stream): only `chunk` and `last` hold it.
  handle.value.first = undefined;
  let last: ChatCompletionChunk | undefined;
  const received: ChatCompletionChunk[] | undefined = onComplete || beforeDone ? [] : undefined;
  try {
    state.ttftMs = performance.now() - state.startedAt;
    while (chunk !== undefined) {
      last = chunk;
      if (chunk.usage) usage = chunk.usage;
      received?.push(chunk);
      if (clientWantsUsage || chunk.choices.length > 0 || !chunk.usage) {
        const drained = writeSseData(response, relayedJson(chunk));
        if (drained) await drained;
      }
      if (response.destroyed) throw new Error('client closed the connection');
      const next = await handle.value.iterator.next();
      chunk = next.done ? undefined : next.value;
    }
    const sources = ragSourcesChunk(request, last);
    if (sources) await writeSseData(response, sources);
    if (received && beforeDone) await beforeDone(received);
    endSseDone(response);
    if (received) onComplete?.(received);
  } catch (error) {
    failure = error;
    // Mid-stream: the status is already 200; the failure goes out as an SSE error event.
    const reason =
      handle.signal.aborted && isGatewayError(handle.signal.reason) ? handle.signal.reason : error;
    const gatewayError = isGatewayError(reason) ? reason : toGatewayError(reason);
    state.errorCode = gatewayError.code;
    if (!response.destroyed) endSseWithError(response, gatewayError, request.id);
    void handle.value.iterator.return?.();
  } finally {
    handle.finish(failure);
    recordUsage(request, usage);
    settleAdmission(admission, request, usage, failure === undefined ? 200 : 599);
  }
}

import type { ModelAlias } from '../config/load.js';
import type { ChatCompletion, ChatCompletionRequest, ChatMessage, Usage } from '../providers/openai-types.js';
import type { Principal } from './authenticate.js';

/** What the policy learns about a request before its upstream call. */
export interface AdmissionRequest {
  readonly principal: Principal | undefined;
  readonly alias: ModelAlias;
  readonly requestId: string;
  /** Estimated prompt tokens plus the completion token ceiling. */
  readonly estimatedTokens: number;
}

/** What happened, for accounting once the request is over. */
export interface Settlement {
  readonly usage: Usage | undefined;
  readonly deployment: string | undefined;
  readonly upstreamModel: string | undefined;
  readonly status: number;
  readonly latencyMs: number;
  readonly ttftMs: number | undefined;
}

export interface Admission {
  /** Headers for the response (e.g. x-ratelimit-*). */
  readonly headers: Readonly<Record<string, string>>;
  /** Reconciles the reservation with what was used, and records usage. Called exactly once. */
  settle(settlement: Settlement): void;
}

/**
 * The seam between the request path and state: rate limits, budgets and usage accounting plug in
 * here (issue: state). The default admits everything and records nothing.
 */
export interface RequestPolicy {
  admit(request: AdmissionRequest): Promise<Admission> | Admission;
  /** The response cache for chat completions, when the state services provide one. */
  readonly cache?: ChatCache;
  /** Stored conversations (`conversation` field or x-gantry-conversation), when state provides them. */
  readonly conversations?: ChatConversations;
}

/** Stored conversations as the chat route sees them; both calls are scoped to the caller's key. */
export interface ChatConversations {
  /** The stored turns, in order; 404 when the caller has no such conversation. */
  history(principal: Principal | undefined, id: string): Promise<ChatMessage[]>;
  /** Appends turns after the stored ones in one transaction; 404 when the conversation is gone. */
  append(principal: Principal | undefined, id: string, turns: readonly ChatMessage[]): Promise<void>;
}

/** A cache entry resolved for one request: where it lives, how long it keeps, and the hit if any. */
export interface CacheLookup {
  readonly key: string;
  readonly ttlMs: number;
  readonly hit: ChatCompletion | undefined;
}

/** The exact-match response cache as the chat route sees it. */
export interface ChatCache {
  /** Undefined when caching does not apply to this request (not opted in, or bypassed). */
  lookup(input: {
    readonly principal: Principal | undefined;
    readonly alias: ModelAlias;
    readonly request: ChatCompletionRequest;
    /** The x-gantry-cache request header. */
    readonly header: string | undefined;
  }): Promise<CacheLookup | undefined>;
  store(lookup: CacheLookup, completion: ChatCompletion): void;
  /** Accounting for an answer served from the cache (recorded as usage, no limits charged). */
  admitHit(request: AdmissionRequest): Admission;
}

const OPEN_ADMISSION: Admission = { headers: {}, settle() {} };

export const OPEN_POLICY: RequestPolicy = { admit: () => OPEN_ADMISSION };

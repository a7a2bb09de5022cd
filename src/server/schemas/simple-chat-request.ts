import { z } from 'zod';

/** POST /chat — the minimal contract for simple clients and smoke checks. */
export const simpleChatRequestSchema = z
  .object({
    message: z.string().min(1).max(1_000_000),
    model: z.string().min(1).optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

export const simpleChatResponseSchema = z.object({
  response: z.string(),
  model: z.string(),
  tokens_used: z.number().int(),
});

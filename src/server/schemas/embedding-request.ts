import { z } from 'zod';

const tokens = z.array(z.number().int().min(0));

/** POST /v1/embeddings */
export const embeddingRequestSchema = z
  .object({
    model: z.string().min(1),
    input: z.union([
      z.string(),
      z.array(z.string()).min(1).max(2048),
      tokens.min(1),
      z.array(tokens.min(1)).min(1).max(2048),
    ]),
    encoding_format: z.enum(['float', 'base64']).optional(),
    dimensions: z.number().int().min(1).max(4096).optional(),
    user: z.string().optional(),
  })
  .loose();

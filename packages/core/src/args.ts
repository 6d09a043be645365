import { z } from 'zod';

/** Optional per-call output budget argument; add it to a tool's input to let callers raise or lower the budget. */
export const maxBytesArg = z
  .number()
  .int()
  .min(256)
  .max(1_048_576)
  .optional()
  .describe("Answer budget, bytes (default: the server's)");

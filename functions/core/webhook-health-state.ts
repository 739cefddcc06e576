import { z } from 'zod';

/** What webhook health keeps between runs: core/webhook-health.ts reads and writes it through the WebhookHealthStore port. */
export const webhookHealthStateSchema = z.object({
  /** Last run that found the webhook valid and our endpoint answering CRC (epoch ms). */
  lastGoodAt: z.number().optional(),
  /** Start of a gap X did not deliver (X said invalid, no webhook, or the webhook refused a signed delivery), kept until replays covered it. */
  gapFrom: z.number().optional(),
  /** End of that gap: the run that found the webhook valid again (unset while it is not). */
  gapTo: z.number().optional(),
  /** Re-validations that did not bring the webhook back, since it went bad. */
  failedRevalidations: z.number().int().min(0).default(0),
  lastReplay: z.object({ jobId: z.string(), fromDate: z.string(), toDate: z.string(), at: z.number() }).optional(),
  /** Replay jobs asked for on one UTC day (`yyyy-mm-dd`): the daily bound. */
  replays: z.object({ day: z.string(), count: z.number().int().min(0) }).optional(),
});
export type WebhookHealthState = z.infer<typeof webhookHealthStateSchema>;

/** Signed deliveries the webhook refused (epoch ms of the first and the last), not yet in a replay gap. */
export const refusalsSchema = z.object({ firstAt: z.number(), lastAt: z.number() });
export type Refusals = z.infer<typeof refusalsSchema>;

/**
 * Keys of the table's processed records, in separate key spaces: inbound DM events (`IN#`) and
 * sent-markers of outbound replies (`SENT#`). A branded string, so an id from outside can never be
 * used as a key without saying which space it belongs to (a forged inbound id `out:90000` once
 * blocked agent reply 90000).
 */
export type ProcessedKey = string & { readonly __brand: 'ProcessedKey' };

export const processedKey = {
  inbound: (eventId: string) => `IN#${eventId}` as ProcessedKey,
  sent: (id: string) => `SENT#${id}` as ProcessedKey,
  /** XChat messages, by their signed message id (or, before decryption, X's delivery id). */
  chat: (id: string) => `CHAT#${id}` as ProcessedKey,
};

/** X's replay window: `POST /2/webhooks/replay` re-delivers up to 24 hours back. */
export const X_REPLAY_WINDOW_SECONDS = 24 * 3600;

/**
 * How long a processed record is kept: at least as long as any source can deliver a DM again (X's
 * replay window plus the polling backfill, with room for an outage). A source that re-reads further
 * back (polling's backfill) exports this and passes the result to the store and the dispatcher.
 */
export function processedLifetimeSeconds(backfillSeconds = 0): number {
  return Math.max(7 * 24 * 3600, X_REPLAY_WINDOW_SECONDS + backfillSeconds + 24 * 3600);
}

export const PROCESSED_EVENT_LIFETIME_SECONDS = processedLifetimeSeconds();

/**
 * X's pay-per-use meter (docs.x.com "Pricing", prepaid credits): what the calls and deliveries the
 * simulator served would cost. A DM event read is billed once per event per UTC day (X's "soft
 * guarantee": a repeat read that day is free), a DM sent per request, an X Activity API
 * `dm.received`/`chat.received` per event delivered; webhook management, `dm.sent`, `dm.read`,
 * typing events and Account Activity deliveries carry no per-item price.
 */
export const xPrices = {
  dmEventRead: 0.01,
  dmSent: 0.015,
  activityDelivery: 0.01,
} as const;

export type BillableKind = keyof typeof xPrices;

interface BilledItem {
  kind: BillableKind;
  resource: string;
  /** UTC day (yyyy-mm-dd) it was billed on. */
  day: string;
}

/** Event types X bills per delivered event. */
const billedActivity = new Set(['dm.received', 'chat.received']);

export function billingMeter(now: () => number) {
  const items: BilledItem[] = [];
  const seen = new Set<string>();

  function bill(kind: BillableKind, resource: string): void {
    const day = new Date(now()).toISOString().slice(0, 10);
    const key = `${kind} ${resource} ${day}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push({ kind, resource, day });
  }

  return {
    items,
    /** Billable units per kind. */
    units(): Record<BillableKind, number> {
      const out = { dmEventRead: 0, dmSent: 0, activityDelivery: 0 };
      for (const i of items) out[i.kind] += 1;
      return out;
    },
    /** What X would charge, in US dollars (cents exact). */
    usd(): number {
      return Math.round(items.reduce((sum, i) => sum + xPrices[i.kind] * 1000, 0)) / 1000;
    },
    /** Meters an answer the router sent. */
    onAnswer(answer: { route?: string; status: number; body?: unknown }): void {
      if (answer.route === 'GET /2/dm_events' && answer.status === 200) {
        for (const e of (answer.body as { data?: Array<{ id: string }> }).data ?? []) bill('dmEventRead', e.id);
      }
      if (answer.route === 'POST /2/dm_conversations/with/:participant_id/messages' && answer.status === 201) {
        bill('dmSent', (answer.body as { data: { dm_event_id: string } }).data.dm_event_id);
      }
    },
    /** Meters an X Activity API delivery (live ones; a replay re-sends an event already billed). */
    onActivity(eventType: string, eventUuid: string): void {
      if (billedActivity.has(eventType)) bill('activityDelivery', eventUuid);
    },
    reset(): void {
      items.length = 0;
      seen.clear();
    },
  };
}

export type BillingMeter = ReturnType<typeof billingMeter>;

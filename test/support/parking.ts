import type { InboundParking } from '../../functions/core/ports';
import type { InboundMessage } from '../../functions/core/x-events';

/** A table that refuses to park too (the webhook then answers 503, as with no table at all). */
export const refusingParking: InboundParking = {
  park: async () => {
    throw new Error('table unavailable');
  },
};

/** Parks in memory, once per event id, as the conditional put does. */
export function memoryParking() {
  const parked = new Map<string, InboundMessage>();
  const parking: InboundParking = {
    async park(messages) {
      const fresh = messages.filter((m) => !parked.has(m.eventId));
      for (const m of fresh) parked.set(m.eventId, m);
      return fresh.length;
    },
  };
  return { parking, parked };
}

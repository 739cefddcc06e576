import { snowflake } from './ids';
import { forbidden, invalidRequest, problemType } from './problems';
import type { Route } from './route';

/** DM sending: `POST /2/dm_conversations/with/:participant_id/messages` (user context of the company account). */

export interface SentDm {
  participantId: string;
  text: string;
  attachments?: Array<{ media_id: string }>;
  dmConversationId: string;
  dmEventId: string;
  at: Date;
}

export function dmsFamily(opts: { accountId: string; onSent: (dm: SentDm) => void }) {
  const { accountId } = opts;
  const dms: SentDm[] = [];
  /** People who do not accept DMs from the account (or blocked it): a DM to them is a 403. */
  const dmRefusers = new Set<string>();
  const conversations = new Map<string, string>();

  const send: Route = {
    method: 'POST',
    pattern: /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/,
    name: 'POST /2/dm_conversations/with/:participant_id/messages',
    auth: 'user',
    kind: 'dm',
    async handle({ params, body }) {
      const participantId = params[0]!;
      const b = (body ?? {}) as { text?: unknown; attachments?: unknown };
      if (!/^\d+$/.test(participantId)) throw invalidRequest(`The \`participant_id\` path parameter [${participantId}] is not valid`, { participant_id: [participantId] });
      const text = typeof b.text === 'string' ? b.text : '';
      const attachments = Array.isArray(b.attachments) ? (b.attachments as Array<{ media_id: string }>) : undefined;
      if (!text && !attachments?.length) throw invalidRequest('Either `text` or `attachments` is required', { text: [] });
      if (text.length > 10_000) throw invalidRequest('`text` exceeds 10000 characters', { text: [] });
      if (participantId === accountId) throw forbidden('You cannot send messages to yourself.', problemType.forbidden);
      // --- issue 8: a person who refuses DMs. X documents a 403 for it; this body is inferred from
      // v1.1's error 349 and v2's problem format (no documented v2 example). ---
      if (dmRefusers.has(participantId)) throw forbidden('You cannot send messages to this user.');
      let dmConversationId = conversations.get(participantId);
      if (!dmConversationId) {
        dmConversationId = `${accountId}-${participantId}`;
        conversations.set(participantId, dmConversationId);
      }
      const dm: SentDm = { participantId, text, attachments, dmConversationId, dmEventId: snowflake(), at: new Date() };
      dms.push(dm);
      opts.onSent(dm);
      return { status: 201, body: { data: { dm_conversation_id: dm.dmConversationId, dm_event_id: dm.dmEventId } } };
    },
  };

  return {
    dms,
    dmRefusers,
    routes: [send],
    reset() {
      dms.length = 0;
      dmRefusers.clear();
      conversations.clear();
    },
  };
}

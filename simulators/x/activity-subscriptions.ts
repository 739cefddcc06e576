import type { BillingMeter } from './billing';
import { snowflake } from './ids';
import { errorBody, HttpProblem, invalidRequest, notFound, problemType, reasonProblem } from './problems';
import type { Route } from './route';
import type { XSwitches } from './switches';
import type { WebhookDelivery, Webhooks } from './webhooks';

/**
 * X Activity API (`/2/activity/subscriptions`): subscriptions per event type and user, and the
 * deliveries of matching events to their webhook in X's envelope `{data: {event_uuid, filter,
 * event_type, tag?, payload}}`.
 */

/** An X Activity API subscription as X lists it. */
export interface ActivitySubscription {
  subscription_id: string;
  event_type: string;
  filter: { user_id?: string };
  tag?: string;
  webhook_id?: string;
  created_at: string;
  updated_at: string;
}

/** Event types X delivers only with the user's consent (docs.x.com "Event privacy and authentication"). */
const privateEvent = (eventType: string) => /^(dm|chat)\./.test(eventType);
const activityEventTypes = new Set(['dm.received', 'dm.sent', 'dm.read', 'dm.indicate_typing', 'chat.received', 'chat.sent', 'chat.conversation.join', 'oauth.revoke', 'follow.follow', 'follow.unfollow', 'profile.update.bio']);
const maxActivitySubscriptions = 1500;

export function activitySubscriptionsFamily(opts: { accountId: string; now: () => number; webhooks: Webhooks; switches: XSwitches; billing: BillingMeter }) {
  const { accountId, now, webhooks } = opts;
  const activitySubscriptions: ActivitySubscription[] = [];
  webhooks.onDelete.push((id) => {
    for (const sub of activitySubscriptions.filter((a) => a.webhook_id === id)) activitySubscriptions.splice(activitySubscriptions.indexOf(sub), 1);
  });

  /** An event for the account, delivered signed to every webhook with a matching subscription. */
  async function emitActivity(eventType: string, payload: unknown): Promise<WebhookDelivery[]> {
    const at = now();
    const out: WebhookDelivery[] = [];
    for (const sub of activitySubscriptions.filter((s) => s.event_type === eventType && s.filter.user_id === accountId && s.webhook_id)) {
      const hook = webhooks.webhooks.find((w) => w.id === sub.webhook_id);
      if (!hook) continue;
      const envelope = { data: { event_uuid: snowflake(), filter: sub.filter, event_type: eventType, ...(sub.tag ? { tag: sub.tag } : {}), payload } };
      // Billed when X delivers it: an invalid webhook gets nothing (the event waits for a replay).
      if (hook.valid) opts.billing.onActivity(eventType, envelope.data.event_uuid);
      out.push(await webhooks.post(hook, envelope, at));
    }
    return out;
  }

  /** A person's DM to the account as X's `dm.received` payload (AAA-style events, v2 users under `data`). */
  function dmReceivedPayload(dm: { senderId: string; username: string; name: string; text: string }, eventId: string) {
    return {
      direct_message_events: [
        {
          type: 'message_create',
          id: eventId,
          created_timestamp: String(now()),
          message_create: { target: { recipient_id: accountId }, sender_id: dm.senderId, message_data: { text: dm.text, entities: { hashtags: [], symbols: [], user_mentions: [], urls: [] } } },
        },
      ],
      users: {
        [dm.senderId]: { data: { id: dm.senderId, username: dm.username, name: dm.name, protected: false, verified: false } },
        [accountId]: { data: { id: accountId, username: 'empresa_suporte', name: 'Empresa Suporte', protected: false, verified: true } },
      },
    };
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/2\/activity\/subscriptions$/,
      name: 'POST /2/activity/subscriptions',
      auth: 'either',
      kind: 'management',
      async handle({ body, auth, userAuth }) {
        const b = (body ?? {}) as { event_type?: unknown; filter?: { user_id?: unknown }; tag?: unknown; webhook_id?: unknown };
        const eventType = b.event_type;
        if (typeof eventType !== 'string' || !activityEventTypes.has(eventType)) throw invalidRequest(`The \`event_type\` [${String(eventType)}] is not one of the documented event types`, { event_type: [String(eventType)] });
        const userId = b.filter?.user_id;
        if (eventType !== 'oauth.revoke' && (typeof userId !== 'string' || !/^\d{1,19}$/.test(userId))) throw invalidRequest('The `filter.user_id` must be a user id', { 'filter.user_id': [String(userId)] });
        if (b.tag !== undefined && (typeof b.tag !== 'string' || b.tag.length < 1 || b.tag.length > 200)) throw invalidRequest('The `tag` must be 1 to 200 characters', { tag: [String(b.tag)] });
        if (b.webhook_id !== undefined && (typeof b.webhook_id !== 'string' || !webhooks.webhooks.some((w) => w.id === b.webhook_id))) throw reasonProblem('WebhookIdInvalid', `The webhook_id ${String(b.webhook_id)} was not found or is not associated with your app`);
        // Private events need the user's consent: user context of that very user.
        if (privateEvent(eventType) && (auth !== 'user' || userId !== accountId)) {
          throw new HttpProblem(403, { ...errorBody(403, `${eventType} is a private event: subscribe with the user context of user ${String(userId)}`), type: problemType.forbidden });
        }
        if (privateEvent(eventType) && userAuth === 'oauth1' && opts.switches.oauth1ForPrivateEvents === 'refused') {
          throw new HttpProblem(403, { ...errorBody(403, `${eventType} is a private event: X requires OAuth 2.0 user context (the user must authorize the app with OAuth 2.0)`), type: problemType.unsupportedAuthentication });
        }
        const filter = typeof userId === 'string' ? { user_id: userId } : {};
        const webhookId = b.webhook_id as string | undefined;
        if (activitySubscriptions.some((a) => a.event_type === eventType && a.filter.user_id === filter.user_id && a.webhook_id === webhookId)) {
          throw reasonProblem('DuplicateSubscriptionFailed', `A subscription for ${eventType} of this user already exists for the specified webhook_id`);
        }
        if (activitySubscriptions.length >= maxActivitySubscriptions) throw reasonProblem('SubscriptionLimitExceeded', 'The application has reached its subscription limit');
        const at = new Date(now()).toISOString();
        const sub: ActivitySubscription = { subscription_id: snowflake(), event_type: eventType, filter, ...(b.tag ? { tag: b.tag as string } : {}), ...(webhookId ? { webhook_id: webhookId } : {}), created_at: at, updated_at: at };
        activitySubscriptions.push(sub);
        // OpenAPI CreateActivitySubscriptionResponse: {data: {subscription}}; X's quickstart shows {data: [subscription], meta}.
        if (opts.switches.activityCreated === 'array') return { status: 200, body: { data: [{ ...sub }], meta: { total_subscriptions: activitySubscriptions.length } } };
        return { status: 200, body: { data: { subscription: { ...sub } }, meta: { total_subscriptions: activitySubscriptions.length } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/activity\/subscriptions$/,
      name: 'GET /2/activity/subscriptions',
      auth: 'either',
      kind: 'management',
      async handle({ url }) {
        // Paged: max_results 1-1000 (default 1000), pagination_token from meta.next_token (an offset here; X's is opaque).
        const max = Number(url.searchParams.get('max_results') ?? 1000);
        if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalidRequest('The `max_results` query parameter value is not between 1 and 1000', { max_results: [String(url.searchParams.get('max_results'))] });
        const token = url.searchParams.get('pagination_token');
        const from = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, '')) : 0;
        if (!Number.isInteger(from) || from < 0) throw invalidRequest('The `pagination_token` query parameter value is not valid', { pagination_token: [String(token)] });
        const page = activitySubscriptions.slice(from, from + max).map((a) => ({ ...a }));
        const next = from + max < activitySubscriptions.length ? Buffer.from(`offset:${from + max}`).toString('base64url') : undefined;
        return { status: 200, body: { ...(page.length ? { data: page } : {}), meta: { result_count: page.length, ...(next ? { next_token: next } : {}) } } };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/activity\/subscriptions\/([^/]+)$/,
      name: 'DELETE /2/activity/subscriptions/:subscription_id',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const sub = activitySubscriptions.find((a) => a.subscription_id === params[0]);
        if (!sub) throw notFound('subscription', params[0]!);
        activitySubscriptions.splice(activitySubscriptions.indexOf(sub), 1);
        return { status: 200, body: { data: { deleted: true }, meta: { total_subscriptions: activitySubscriptions.length } } };
      },
    },
  ];

  return {
    activitySubscriptions,
    emitActivity,
    async receiveDm(dm: { senderId: string; username: string; name: string; text: string; eventId?: string }) {
      const eventId = dm.eventId ?? snowflake();
      return { eventId, deliveries: await emitActivity('dm.received', dmReceivedPayload(dm, eventId)) };
    },
    routes,
    reset: () => void (activitySubscriptions.length = 0),
  };
}

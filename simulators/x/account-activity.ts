import type { XApiCredentials } from './oauth';
import { notFound, reasonProblem } from './problems';
import type { Route } from './route';
import type { Webhooks } from './webhooks';

/**
 * Account Activity API subscriptions (being deprecated by X): the company account subscribes a
 * webhook to all its events (user context); the app lists and removes subscriptions.
 */
export function accountActivityFamily(opts: { credentials: XApiCredentials; accountId: string; webhooks: Webhooks }) {
  const { accountId, webhooks } = opts;
  /** webhook id → subscribed user ids. */
  const subscriptions = new Map<string, Set<string>>();
  webhooks.onDelete.push((id) => subscriptions.delete(id));

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      name: 'POST /2/account_activity/webhooks/:webhook_id/subscriptions/all',
      auth: 'user',
      kind: 'management',
      async handle({ params }) {
        const hook = webhooks.findWebhook(params[0]!);
        if (!hook.valid) throw reasonProblem('CrcValidationFailed', 'The webhook is not valid: re-run the CRC check (PUT /2/webhooks/:id) first');
        const subs = subscriptions.get(hook.id) ?? new Set<string>();
        if (subs.has(accountId)) throw reasonProblem('DuplicateSubscriptionFailed', 'A subscription for this user already exists for the specified webhook_id');
        subs.add(accountId);
        subscriptions.set(hook.id, subs);
        return { status: 200, body: { data: { subscribed: true } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all$/,
      name: 'GET /2/account_activity/webhooks/:webhook_id/subscriptions/all',
      auth: 'user',
      kind: 'management',
      async handle({ params }) {
        const hook = webhooks.findWebhook(params[0]!);
        return { status: 200, body: { data: { subscribed: subscriptions.get(hook.id)?.has(accountId) ?? false } } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/all\/list$/,
      name: 'GET /2/account_activity/webhooks/:webhook_id/subscriptions/all/list',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = webhooks.findWebhook(params[0]!);
        const users = [...(subscriptions.get(hook.id) ?? [])].map((user_id) => ({ user_id }));
        return {
          status: 200,
          body: { data: { application_id: opts.credentials.consumerKey, webhook_id: hook.id, webhook_url: hook.url, subscriptions: users } },
        };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/2\/account_activity\/webhooks\/([^/]+)\/subscriptions\/([^/]+)\/all$/,
      name: 'DELETE /2/account_activity/webhooks/:webhook_id/subscriptions/:user_id/all',
      auth: 'app',
      kind: 'management',
      async handle({ params }) {
        const hook = webhooks.findWebhook(params[0]!);
        const subs = subscriptions.get(hook.id);
        if (!subs?.delete(params[1]!)) throw notFound('subscription', params[1]!);
        return { status: 200, body: { data: { subscribed: false } } };
      },
    },
  ];

  return { subscriptions, routes, reset: () => subscriptions.clear() };
}

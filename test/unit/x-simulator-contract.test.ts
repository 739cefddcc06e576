import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { OAuth1Helper } from 'twitter-api-v2/dist/cjs/client-mixins/oauth1.helper';
import { signPayload } from '../../functions/core/x-signature';
import { listenOnLoopback } from '../../simulators/http';
import { startXApiSimulator, type XApiSimulator } from '../../simulators/x';

/**
 * Issue 18 §6: every answer the X simulator gives, checked against X's OpenAPI document for that
 * route (test/fixtures/x-openapi: 2.167, X's current one, and 2.166, the last that lists required
 * fields). Success answers must fit both; error answers must be an RFC 7807 problem as 2.166
 * defines it (`type` and `title` required) or X's `{errors: [{code, message}]}`.
 */
const load = (version: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'x-openapi', `${version}.json`), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
const documents = { '2.167': load('2.167'), '2.166': load('2.166') };
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const [version, doc] of Object.entries(documents)) ajv.addSchema(doc, version);
const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** 'PUT /2/webhooks/:webhook_id' → the OpenAPI path and method. */
function openApiRoute(name: string): { path: string; method: string } {
  const [method, path] = name.split(' ') as [string, string];
  return { path: path.replace(/:([a-z_]+)/g, '{$1}'), method: method.toLowerCase() };
}

/** The schema of a success answer in `contentType` (JSON unless the route answers bytes). */
function successSchema(version: keyof typeof documents, name: string, status: number, contentType = 'application/json'): ValidateFunction | undefined {
  const { path, method } = openApiRoute(name);
  const op = documents[version].paths[path]?.[method] as { responses?: Record<string, { content?: Record<string, unknown> }> } | undefined;
  if (!op?.responses?.[String(status)]?.content?.[contentType]) return undefined;
  return ajv.getSchema(`${version}#/paths/${pointer(path)}/${method}/responses/${status}/content/${pointer(contentType)}/schema`);
}

/**
 * Where X's documents disagree, the answer is held to the one that describes it; each entry says
 * why the other does not apply.
 */
function divergence(route: string, version: string, body: unknown): string | undefined {
  const data = (body as { data?: unknown } | undefined)?.data;
  if (version === '2.166' && (route === 'POST /2/webhooks' || route === 'POST /2/webhooks/replay')) return '2.166 documented the answer without the data envelope that 2.167 and the endpoint pages show';
  if (version === '2.166' && route === 'GET /2/webhooks' && Array.isArray(data) && data.some((w) => !('valid' in w))) return '2.166 required every WebhookConfig field; 2.167 dropped that, and without webhook_config.fields only the default ones come';
  if (route === 'POST /2/activity/subscriptions' && Array.isArray(data)) return "{data: [subscription], meta} is the shape of X's quickstart page, not of the OpenAPI document";
  return undefined;
}

const problem = ajv.compile({ anyOf: [{ $ref: '2.166#/components/schemas/Problem' }, { type: 'object', required: ['errors'], properties: { errors: { type: 'array', minItems: 1, items: { $ref: '2.166#/components/schemas/Error' } } } }] });

const consumerSecret = 'contract-consumer-secret';
const userToken = 'contract-oauth2-user-token';

describe('X simulator held to X\'s OpenAPI document', () => {
  let sim: XApiSimulator;
  let crc: { close(): void; port: number };
  beforeAll(async () => {
    const { server, port } = await listenOnLoopback(async (req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('crc_token') ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response_token: signPayload(consumerSecret, token) }));
    });
    crc = { close: () => server.close(), port };
    sim = await startXApiSimulator({ credentials: { consumerSecret }, resolveWebhookUrl: (url) => url.replace('https://bridge.localhost', `http://127.0.0.1:${port}`) });
    sim.oauth2UserTokens.add(userToken);
  });
  afterAll(async () => {
    await sim.close();
    crc.close();
  });

  const call = async (method: string, path: string, as: 'app' | 'user', body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${as === 'app' ? sim.credentials.bearerToken : userToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as { data?: { id?: string; subscription?: { subscription_id: string } } } };
  };

  it('answers every route the bridge uses, successes and X\'s documented failures, within the schema', async () => {
    const me = sim.accountId;
    const person = '2900000000000000042';
    const hook = await call('POST', '/2/webhooks', 'app', { url: 'https://bridge.localhost/hook' });
    const id = hook.body.data!.id!;
    await call('POST', '/2/webhooks', 'app', { url: 'https://bridge.localhost/hook' }); // DuplicateUrlFailed
    await call('GET', '/2/webhooks', 'app');
    await call('GET', '/2/webhooks?webhook_config.fields=created_at,id,url,valid', 'app');
    await call('PUT', `/2/webhooks/${id}`, 'app');
    await call('PUT', '/2/webhooks/1999', 'app'); // not found

    await call('POST', `/2/account_activity/webhooks/${id}/subscriptions/all`, 'user');
    await call('POST', `/2/account_activity/webhooks/${id}/subscriptions/all`, 'user'); // DuplicateSubscriptionFailed
    await call('GET', `/2/account_activity/webhooks/${id}/subscriptions/all`, 'user');
    await call('GET', `/2/account_activity/webhooks/${id}/subscriptions/all/list`, 'app');
    await call('DELETE', `/2/account_activity/webhooks/${id}/subscriptions/${me}/all`, 'app');
    await call('DELETE', `/2/account_activity/webhooks/${id}/subscriptions/${me}/all`, 'app'); // not found

    const created = await call('POST', '/2/activity/subscriptions', 'user', { event_type: 'dm.received', filter: { user_id: me }, webhook_id: id, tag: 'dm' });
    sim.switches.activityCreated = 'array';
    await call('POST', '/2/activity/subscriptions', 'user', { event_type: 'dm.sent', filter: { user_id: me }, webhook_id: id });
    await call('POST', '/2/activity/subscriptions', 'user', { event_type: 'dm.read', filter: { user_id: me }, webhook_id: '1999' }); // WebhookIdInvalid
    await call('GET', '/2/activity/subscriptions?max_results=1', 'app');
    await call('GET', '/2/activity/subscriptions', 'app');
    await call('DELETE', `/2/activity/subscriptions/${created.body.data!.subscription!.subscription_id}`, 'app');
    await call('DELETE', '/2/activity/subscriptions/1999', 'app'); // SubscriptionNotFound
    await call('POST', '/2/webhooks/replay', 'app', { webhook_id: id, from_date: new Date(Date.now() - 3_600_000).toISOString().replace(/[-:T]/g, '').slice(0, 12), to_date: new Date(Date.now() - 60_000).toISOString().replace(/[-:T]/g, '').slice(0, 12) });
    await Promise.all(sim.replayJobs.map((j) => j.done));

    sim.addDmEvent({ senderId: person, username: 'p', name: 'P', text: 'oi https://t.co/a', urls: [{ url: 'https://t.co/a', expandedUrl: 'https://example.com' }], urlsAt: 'both' });
    sim.addDmEvent({ senderId: person, text: 'foto', mediaUrl: 'https://ton.twitter.com/1.1/ton/data/dm/1/2/x.jpg' });
    sim.addDmEvent({ senderId: person, text: '', video: { type: 'video', preview_image_url: 'https://pbs.twimg.com/p.jpg', variants: [{ url: 'https://video.twimg.com/v.mp4', content_type: 'video/mp4', bit_rate: 832000 }] } });
    const fields = 'dm_event.fields=id,text,event_type,created_at,sender_id,dm_conversation_id,attachments,entities&expansions=sender_id,attachments.media_keys&user.fields=username,name&media.fields=url,type,preview_image_url,variants';
    await call('GET', `/2/dm_events?max_results=2&${fields}`, 'user');
    await call('GET', '/2/dm_events?max_results=1000', 'user'); // invalid request

    await call('POST', `/2/dm_conversations/with/${person}/messages`, 'user', { text: 'olá' });
    sim.dmRefusers.add('2900000000000000043');
    await call('POST', '/2/dm_conversations/with/2900000000000000043/messages', 'user', { text: 'olá' });
    sim.script('dm', { status: 402, creditsDepleted: true });
    sim.script('dm', { status: 429, dailyCap: 'user' });
    sim.script('dm', { status: 429, dailyCap: 'app' });
    sim.script('dm', { status: 429, usageCapped: true });
    sim.script('dm', { status: 429 });
    sim.script('dm', { status: 403, problem: 'oauth1-permissions' });
    sim.script('dm', { status: 503 });
    for (let i = 0; i < 7; i++) await call('POST', `/2/dm_conversations/with/${person}/messages`, 'user', { text: 'olá' });
    // XChat: the company's public keys, a conversation's events (key changes in meta), an encrypted answer.
    await sim.receiveChat({ senderId: person, text: 'oi' });
    await sim.receiveChat({ senderId: person, text: 'de novo' });
    await call('GET', `/2/users/${me}/public_keys?public_key.fields=public_key,signing_public_key,identity_public_key_signature,public_key_version`, 'user');
    const events = await call('GET', `/2/chat/conversations/${person}/events?max_results=1`, 'user');
    const page = events.body as unknown as { data: { conversation_id: string }[]; meta: { next_token: string } };
    const pathId = page.data[0]!.conversation_id.replace(':', '-');
    await call('GET', `/2/chat/conversations/${pathId}/events?max_results=100&pagination_token=${page.meta.next_token}`, 'user');
    await call('GET', '/2/chat/conversations/2900000000000000049/events', 'user'); // no such conversation
    await call('GET', `/2/chat/conversations/${pathId}/events?max_results=1000`, 'user'); // invalid request
    await call('POST', `/2/chat/conversations/${pathId}/messages`, 'user', { message_id: 'b3f4d1c2-0000-4000-8000-000000000001', encoded_message_create_event: 'AA==', encoded_message_event_signature: 'AA==' });
    // DM media through API v2 (OAuth 2.0 only: OAuth 1.0a is refused) and who the user token belongs to.
    sim.setMedia('/1.1/ton/data/dm/1870000000000000001/1870000000000000002/aB3.jpg', Buffer.from('photo'));
    await call('GET', '/2/dm_conversations/media/1870000000000000001/1870000000000000002/aB3.jpg', 'user');
    await call('GET', '/2/users/me', 'user');
    const media = `${sim.url}/2/dm_conversations/media/1870000000000000001/1870000000000000002/aB3.jpg`;
    const oauth1 = new OAuth1Helper({ consumerKeys: { key: sim.credentials.consumerKey, secret: sim.credentials.consumerSecret } });
    const signed = oauth1.toHeader(oauth1.authorize({ url: media, method: 'GET' }, { key: sim.credentials.accessToken, secret: sim.credentials.accessTokenSecret }));
    expect((await fetch(media, { headers: signed })).status).toBe(403); // unsupported-authentication
    await fetch(`${sim.url}/2/users/me`, { headers: { authorization: 'Bearer not-a-user-token' } }); // 401
    sim.switches.revalidationFailure = 'CrcValidationFailed';
    sim.switches.oauth1ForPrivateEvents = 'refused';
    crc.close();
    await call('PUT', `/2/webhooks/${id}`, 'app'); // CrcValidationFailed: nothing answers the CRC now
    await fetch(`${sim.url}/2/webhooks`, { headers: { authorization: 'Bearer wrong' } }); // 401
    await call('DELETE', `/2/webhooks/${id}`, 'app');

    const problems: string[] = [];
    for (const a of sim.answers) {
      if (!a.route) continue;
      if (a.status >= 400) {
        if (!problem(a.body)) problems.push(`${a.route} ${a.status}: not a problem: ${ajv.errorsText(problem.errors)}`);
        continue;
      }
      for (const version of ['2.167', '2.166'] as const) {
        if (divergence(a.route, version, a.body)) continue;
        // Bytes (DM media): the content type the document names, its schema a binary string.
        const validate = successSchema(version, a.route, a.status, a.contentType);
        if (!validate) problems.push(`${a.route} ${a.status}${a.contentType ? ` ${a.contentType}` : ''}: no such answer in OpenAPI ${version}`);
        else if (!validate(a.contentType ? 'bytes' : a.body)) problems.push(`${a.route} ${a.status} (OpenAPI ${version}): ${ajv.errorsText(validate.errors)} in ${JSON.stringify(a.body).slice(0, 300)}`);
      }
    }
    expect(problems).toEqual([]);

    // Every route of the trimmed document was answered with a success at least once.
    const answered = new Set(sim.answers.filter((a) => a.status < 300 && a.route).map((a) => `${openApiRoute(a.route!).method} ${openApiRoute(a.route!).path}`));
    const documented = Object.entries(documents['2.167'].paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(documented.filter((r) => !answered.has(r))).toEqual([]);
    expect(sim.answers.filter((a) => a.status >= 400).map((a) => a.status).sort()).toEqual(expect.arrayContaining([400, 401, 402, 403, 404, 429, 503]));
  });
});

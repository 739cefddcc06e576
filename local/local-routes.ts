import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { TenantConfig } from '../infra/tenant-config';
import type { ExternalServices } from './external-services';
import type { ExtraEndpoint } from './http-gateway';
import { readBody } from '../simulators/http';

/**
 * The local-only `/_local/*` endpoints next to the webhook (docs/local-mode.md, "Inspection
 * endpoints"): what the bridge is, what 4biz and X were asked to do, and plays of a person writing
 * on X (polling mode) and of a 4biz agent answering (tickets mode).
 */

export interface LocalRoutesContext {
  tenant: TenantConfig;
  ingestion: 'webhook' | 'poll';
  xPollIntervalMs: number;
  /** The webhook's URL, known once the local API listens. */
  webhookUrl: () => string;
  services: ExternalServices;
  secretsFile: string;
  pollNow?: () => Promise<void>;
  pollDmsNow?: () => Promise<void>;
}

/** t.co links of a DM added with POST /_local/x-dm, as `{url, expandedUrl}`. */
const urlsSchema = z.array(z.object({ url: z.string().url(), expandedUrl: z.string().url() })).max(10);

function sendJson(res: ServerResponse, body: unknown): true {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
  return true;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  try {
    return JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function localRoutes(ctx: LocalRoutesContext): ExtraEndpoint {
  const { tenant, ingestion, services } = ctx;
  const { xApi, omnichannel, fourbizRest, fourbizSettings } = services;
  const mode = tenant.fourbiz.mode;
  return async (req, res, url) => {
    if (req.method === 'GET' && url.pathname === '/_local/status') {
      return sendJson(res, {
        tenant: tenant.name,
        mode,
        ingestion,
        ...(ingestion === 'poll' ? { xPollIntervalMs: ctx.xPollIntervalMs } : {}),
        webhookUrl: ctx.webhookUrl(),
        xApi: xApi ? 'simulator' : services.xApiBaseUrl,
        fourbiz:
          fourbizSettings.mode === 'relay' ? (omnichannel ? 'simulator' : fourbizSettings.callbackUrl) : fourbizRest ? 'simulator' : fourbizSettings.baseUrl,
        xAccountId: tenant.xAccountId,
        secretsFile: ctx.secretsFile,
      });
    }
    if (req.method === 'GET' && url.pathname === '/_local/deliveries') {
      if (omnichannel) return sendJson(res, omnichannel.deliveries.map((d) => ({ eventId: d.eventId, senderId: d.senderId, signature: d.signature, body: d.body })));
      if (fourbizRest) return sendJson(res, fourbizRest.requests);
      return sendJson(res, []);
    }
    if (req.method === 'GET' && url.pathname === '/_local/dms') return sendJson(res, xApi?.dms ?? []);
    if (req.method === 'POST' && url.pathname === '/_local/x-dm' && xApi && ctx.pollDmsNow) {
      // Plays a person writing to the company: the DM lands in the X simulator's DM events, then a poll runs at once.
      const body = await readJson(req);
      const senderId = typeof body.senderId === 'string' && /^\d{1,32}$/.test(body.senderId) ? body.senderId : '2900000000000000042';
      const eventId = xApi.addDmEvent({
        senderId,
        username: typeof body.username === 'string' ? body.username : 'maria_souza',
        name: typeof body.name === 'string' ? body.name : 'Maria Souza',
        text: typeof body.text === 'string' ? body.text : 'Olá, preciso de ajuda com meu pedido',
        urls: urlsSchema.safeParse(body.urls).data,
      });
      void ctx.pollDmsNow();
      return sendJson(res, { eventId, senderId });
    }
    if (req.method === 'POST' && url.pathname === '/_local/agent-reply' && fourbizRest) {
      // Plays the 4biz agent: writes on the request, then polls at once instead of waiting for the schedule.
      const body = await readJson(req);
      const request = fourbizRest.requests.find((r) => r.numberOrigin === body.numberOrigin) ?? fourbizRest.requests.at(-1);
      if (!request) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'no 4biz request yet' }));
        return true;
      }
      const text = typeof body.text === 'string' ? body.text : 'Olá! Já estamos verificando.';
      const occurrence = fourbizRest.addAgentOccurrence(request.number, text, typeof body.category === 'string' ? { category: body.category } : {});
      void ctx.pollNow?.();
      return sendJson(res, { requestNumber: request.number, occurrence });
    }
    return false;
  };
}

import type { IncomingMessage } from 'node:http';
import type { Answer } from './failures';

/**
 * What a route is, what it is handed and what it answers: the one home of these types, which the
 * router (router.ts), the OAuth family (oauth.ts) and every other API family import.
 */

/** What a route accepts: user context, the app bearer token, either, or no authentication at all. */
export type Auth = 'user' | 'app' | 'either' | 'none';

/** Who called: the app (bearer token), a user with OAuth 1.0a, or a user with an OAuth 2.0 token. */
export type Caller = 'app' | 'user';
export type UserAuthKind = 'oauth1' | 'oauth2';

export interface RouteContext {
  params: string[];
  /** The parsed JSON body (routes with `body: 'json'`, the default). */
  body: unknown;
  raw: Buffer;
  url: URL;
  req: IncomingMessage;
  /** The app (bearer token) or the user (user context). */
  auth: Caller;
  /** How the user authenticated (user context only). */
  userAuth?: UserAuthKind;
}

/** A route's answer: JSON (`body`), or bytes with their content type (media). */
export type RouteAnswer = Answer | { status: number; bytes: Buffer; contentType: string };

export interface Route {
  method: string;
  pattern: RegExp;
  /** As X's rate-limit table names the endpoint: 'POST /2/webhooks/:webhook_id'. */
  name: string;
  auth: Auth;
  /** Scripted failures aimed at a kind ('dm') hit every route of it; 'all' hits dm, management and dm-lookup. */
  kind: 'dm' | 'management' | 'dm-lookup' | 'media' | 'oauth' | (string & {});
  /** 'raw' leaves the body unparsed (form posts, uploads). */
  body?: 'json' | 'raw';
  /** False for routes outside X's API v2 windows (token endpoint, media downloads). */
  rateLimited?: boolean;
  handle(ctx: RouteContext): Promise<RouteAnswer>;
}

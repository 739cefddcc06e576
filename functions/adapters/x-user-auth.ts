import { randomUUID } from 'node:crypto';
import { TwitterApi } from 'twitter-api-v2';
import type { TenantSecret } from '../config';
import { ConfigurationError, TransientError } from '../core/errors';
import type { LeaseStore } from '../core/lease';
import type { SecretSource, WritableSecretSource } from './secrets';
import { AUTHORIZE_HINT, XAuthError } from './x-errors';

/**
 * The company account's user context, as the tenant chose it (`userAuth` in the secret): OAuth
 * 1.0a with the access token and secret, or OAuth 2.0 with the tokens `npm run x -- authorize`
 * stored. X's OAuth 2.0 access tokens last two hours and X rotates the refresh token on every use,
 * so a refresh is done by one process at a time (a lease in the conversation table), the new
 * tokens are stored in the secret before they are used, and a process that lost the race (its
 * refresh token spent) reads the secret again instead of failing.
 */

/** Refreshing failed (X refused the refresh token, or the new tokens could not be stored): the tokens need `authorize` again. */
export class XTokenRefreshError extends XAuthError {}

/** Refresh this long before X's expiry, so no call goes out with a token about to lapse. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const LEASE_NAME = 'x-oauth2-refresh';
const LEASE_SECONDS = 30;
/** How often a process that finds the lease taken looks at the secret for the winner's tokens. */
const WAIT_TRIES = 10;
const WAIT_MS = 1_000;

export interface UserAuthOptions {
  /** One refresh at a time across processes; without it (the CLI) a lost race is still mended by re-reading the secret. */
  leases?: LeaseStore;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** twitter-api-v2 settings for the token endpoint (deadline, the simulator's origin). */
  clientSettings?: ConstructorParameters<typeof TwitterApi>[1];
}

/** A tenant secret that chose OAuth 2.0: its `oauth2` tokens are there (the schema holds it to that). */
export type OAuth2TenantSecret = Extract<TenantSecret, { userAuth: 'oauth2' }>;
type OAuth2Tokens = OAuth2TenantSecret['oauth2'];

/** What twitter-api-v2 is built with: OAuth 1.0a keys, or the OAuth 2.0 access token (a bearer). `key`: same key, same client. */
export type UserCredentials =
  | { kind: 'oauth1a'; tokens: { appKey: string; appSecret: string; accessToken: string; accessSecret: string }; key: unknown }
  | { kind: 'oauth2'; tokens: string; key: unknown };

export function usesOAuth2(secret: TenantSecret): secret is OAuth2TenantSecret {
  return secret.userAuth === 'oauth2';
}

export function userAuth(secrets: SecretSource & Partial<Pick<WritableSecretSource, 'update'>>, options: UserAuthOptions = {}) {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const holder = randomUUID();
  /** An access token X refused before its expiry (revoked, or its clock differs): refreshed at once. */
  let refused: string | undefined;

  const fresh = (o: OAuth2Tokens): boolean => o.accessToken !== refused && Date.parse(o.expiresAt) - now() > REFRESH_MARGIN_MS;

  function oauth2Of(secret: TenantSecret): OAuth2Tokens {
    // Someone may have switched the secret back to OAuth 1.0a while this process refreshed.
    if (!usesOAuth2(secret)) throw new ConfigurationError('the tenant secret no longer says userAuth "oauth2": the OAuth 2.0 token is not refreshed');
    return secret.oauth2;
  }

  async function reread(): Promise<OAuth2Tokens> {
    secrets.invalidate();
    return oauth2Of(await secrets.get());
  }

  /** Holding the lease (or without one): refresh unless someone did meanwhile, store, then hand out. */
  async function refreshNow(): Promise<string> {
    const current = await reread();
    if (fresh(current)) return current.accessToken;
    let result;
    try {
      const client = new TwitterApi({ clientId: current.clientId, ...(current.clientSecret ? { clientSecret: current.clientSecret } : {}) }, options.clientSettings);
      result = await client.refreshOAuth2Token(current.refreshToken);
    } catch (err) {
      // Another process may have used (and so spent) the same refresh token first: its tokens are in the secret.
      const after = await reread();
      if (after.refreshToken !== current.refreshToken && fresh(after)) return after.accessToken;
      throw new XTokenRefreshError(`X refused to refresh the OAuth 2.0 token (${(err as Error).message}): run ${AUTHORIZE_HINT}`, undefined, undefined, { cause: err });
    }
    const next: OAuth2Tokens = {
      ...current,
      accessToken: result.accessToken,
      // X rotates it; keep the old one only if X sent none.
      refreshToken: result.refreshToken ?? current.refreshToken,
      expiresAt: new Date(now() + result.expiresIn * 1000).toISOString(),
      scope: result.scope.join(' ') || current.scope,
    };
    if (!secrets.update) throw new ConfigurationError('this secret cannot be written: OAuth 2.0 tokens cannot be refreshed');
    // Stored before use: X has already spent the old refresh token, so these are the only ones that work.
    for (let attempt = 1; ; attempt++) {
      try {
        await secrets.update({ oauth2: next });
        break;
      } catch (err) {
        if (attempt >= 3) throw new XTokenRefreshError(`X refreshed the OAuth 2.0 token but it could not be stored (${(err as Error).message}): run ${AUTHORIZE_HINT}`, undefined, undefined, { cause: err });
      }
    }
    return next.accessToken;
  }

  async function refresh(): Promise<string> {
    const leases = options.leases;
    if (!leases) return refreshNow();
    for (let i = 0; i < WAIT_TRIES; i++) {
      if (await leases.tryAcquire(LEASE_NAME, holder, LEASE_SECONDS)) {
        try {
          return await refreshNow();
        } finally {
          await leases.release(LEASE_NAME, holder);
        }
      }
      // Another process refreshes: its tokens appear in the secret.
      await sleep(WAIT_MS);
      const after = await reread();
      if (fresh(after)) return after.accessToken;
    }
    throw new TransientError("another process has been refreshing X's OAuth 2.0 token for too long: retried");
  }

  return {
    /** The credentials of the tenant's choice, an OAuth 2.0 access token refreshed first when due. */
    async credentials(secret: TenantSecret): Promise<UserCredentials> {
      if (!usesOAuth2(secret)) {
        return { kind: 'oauth1a', key: secret, tokens: { appKey: secret.consumerKey, appSecret: secret.consumerSecret, accessToken: secret.accessToken, accessSecret: secret.accessTokenSecret } };
      }
      const token = fresh(secret.oauth2) ? secret.oauth2.accessToken : await refresh();
      return { kind: 'oauth2', key: token, tokens: token };
    },
    /** X answered 401 to this OAuth 2.0 access token: the next call refreshes it. */
    refused(credentials: UserCredentials) {
      if (credentials.kind === 'oauth2') refused = credentials.tokens;
    },
  };
}

import { DM_EVENTS_QUERY } from '../core/dm-events';
import type { DmEventsSource } from '../core/ports';
import { companyXApi, type XClientOptions } from './x-client';
import { RecipientRefusedError, XAuthError } from './x-errors';
import type { SecretSource } from './secrets';

/**
 * X's DM lookup (`GET /2/dm_events`) as the company account, through the same twitter-api-v2
 * client as sending DMs. The raw JSON goes to the core, which validates it event by event.
 */
export function createDmEventsSource(secrets: SecretSource, options: XClientOptions = {}): DmEventsSource {
  const x = companyXApi(secrets, options);
  return {
    async page(paginationToken, maxResults) {
      try {
        return await x.call((api) =>
          api.v2.get('dm_events', { ...DM_EVENTS_QUERY, max_results: maxResults, ...(paginationToken ? { pagination_token: paginationToken } : {}) }),
        );
      } catch (err) {
        // A lookup has no recipient who could refuse: a 403 is about the app or its token (e.g. no DM read permission).
        if (err instanceof RecipientRefusedError || (err instanceof XAuthError && err.status === 403)) {
          throw new XAuthError(`X answered HTTP 403 to the DM lookup: the app or the company's access token may not read DMs (${err.message})`, 403, undefined, { cause: err });
        }
        throw err;
      }
    },
  };
}

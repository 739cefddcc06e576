import { DM_EVENTS_QUERY } from '../core/dm-events';
import type { DmEventsSource } from '../core/dm-poll';
import { companyXApi, type XClientOptions } from './x-client';
import type { SecretSource } from './secrets';

/**
 * X's DM lookup (`GET /2/dm_events`) as the company account, through the same twitter-api-v2
 * client as sending DMs. The raw JSON goes to the core, which validates it event by event.
 */
export function createDmEventsSource(secrets: SecretSource, options: XClientOptions = {}): DmEventsSource {
  const x = companyXApi(secrets, options);
  return {
    page: (paginationToken, maxResults) =>
      x.call((api) =>
        api.v2.get('dm_events', { ...DM_EVENTS_QUERY, max_results: maxResults, ...(paginationToken ? { pagination_token: paginationToken } : {}) }),
      ),
  };
}

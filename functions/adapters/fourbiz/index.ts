import type { FourbizSettings } from '../../config';
import type { SecretSource } from '../secrets';
import type { XMediaDownloader } from '../x-media';
import type { FourbizClient } from '../../core/ports';
import { createRelayClient } from './relay';
import { createTicketsClient } from './tickets';

export interface FourbizClientOptions {
  fetch?: typeof fetch;
  /** tickets mode: downloads DM media to attach it to the request. */
  media?: XMediaDownloader;
}

/** The way into 4biz the tenant chose (`fourbiz.mode` in its tenant file). */
export function createFourbizClient(settings: FourbizSettings, secrets: SecretSource, options: FourbizClientOptions = {}): FourbizClient {
  switch (settings.mode) {
    case 'relay':
      return createRelayClient(settings, secrets, options);
    case 'tickets':
      return createTicketsClient(settings, secrets, options);
  }
}

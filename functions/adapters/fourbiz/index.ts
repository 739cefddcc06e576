import { ConfigError, type FourbizSettings } from '../../config';
import type { SecretSource } from '../secrets';
import type { FourBizClient } from './fourbiz-client';
import { createRelayClient } from './relay';

export type { DeliveryResult, FourBizClient } from './fourbiz-client';

export interface FourBizClientOptions {
  fetch?: typeof fetch;
}

/** The way into 4biz the tenant chose (`fourbiz.mode` in its tenant file). */
export function createFourBizClient(settings: FourbizSettings, secrets: SecretSource, options: FourBizClientOptions = {}): FourBizClient {
  switch (settings.mode) {
    case 'relay':
      return createRelayClient(settings, secrets, options);
    case 'tickets':
      throw new ConfigError('fourbiz.mode "tickets" is not available in this build yet: use "relay"');
  }
}

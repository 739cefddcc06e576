import type { FourbizSettings } from '../functions/config';
import type { TenantConfig } from '../infra/tenant-config';
import { startXApiSimulator, simulatorCredentials, type XApiCredentials, type XApiSimulator } from '../simulators/x';
import { startOmnichannelSimulator, type OmnichannelSimulator } from '../simulators/fourbiz-omnichannel';
import { startFourbizSimulator, type FourbizSimulator } from '../simulators/fourbiz-rest';
import type { LocalSettings } from './local-config';

/**
 * The outside world of the local bridge, X and 4biz: the real endpoints when configured, the
 * simulators otherwise.
 */

/**
 * The webhook URL to register with the X simulator: X accepts only https URLs without a port, so
 * the simulator maps this origin to the local API (X's CRC checks and deliveries reach it there).
 */
export const LOCAL_PUBLIC_ORIGIN = 'https://bridge.localhost';

export interface ExternalServices {
  /** The X keys the bridge uses (the development keys unless real ones are given). */
  xKeys: XApiCredentials | NonNullable<LocalSettings['x']>;
  xApiBaseUrl: string;
  /** Present when the simulator runs (not replaced by a real endpoint). */
  xApi?: XApiSimulator;
  omnichannel?: OmnichannelSimulator;
  fourbizRest?: FourbizSimulator;
  fourbizSettings: FourbizSettings;
  /** Tickets mode: the 4biz integration user for the tenant secret. */
  fourbizUser?: string;
  fourbizPassword?: string;
}

/**
 * Starts the simulators the settings do not replace. Each started one is handed to `onStarted`
 * at once, so a later failure can stop it. `localApiUrl` is read when X calls the webhook (only
 * after someone registered it, by then the local API listens).
 */
export async function startExternalServices(
  tenant: TenantConfig,
  settings: Partial<LocalSettings>,
  localApiUrl: () => string,
  onStarted: (stop: () => Promise<void>) => void,
): Promise<ExternalServices> {
  const xKeys = settings.x ?? simulatorCredentials;
  let xApi: XApiSimulator | undefined;
  if (!settings.xApiBaseUrl) {
    xApi = await startXApiSimulator({
      credentials: xKeys,
      accountId: tenant.xAccountId,
      // Locally the dm-poller runs every few seconds (X_POLL_INTERVAL_SECONDS): X's 15 lookups per 15 minutes would stop it within a minute.
      rateLimits: { 'GET /2/dm_events': { limit: 100_000, windowSeconds: 900 } },
      resolveWebhookUrl: (url) => (url.startsWith(`${LOCAL_PUBLIC_ORIGIN}/`) ? localApiUrl() + url.slice(LOCAL_PUBLIC_ORIGIN.length) : url),
    });
    onStarted(() => xApi!.close());
  }
  const xApiBaseUrl = settings.xApiBaseUrl ?? xApi!.url;

  if (tenant.fourbiz.mode === 'relay') {
    let omnichannel: OmnichannelSimulator | undefined;
    if (!settings.fourbizCallbackUrl) {
      omnichannel = await startOmnichannelSimulator({ consumerSecret: xKeys.consumerSecret });
      onStarted(() => omnichannel!.stop());
    }
    return { xKeys, xApiBaseUrl, xApi, omnichannel, fourbizSettings: { ...tenant.fourbiz, callbackUrl: settings.fourbizCallbackUrl ?? omnichannel!.url } };
  }
  let fourbizRest: FourbizSimulator | undefined;
  if (!settings.fourbizBaseUrl) {
    fourbizRest = await startFourbizSimulator();
    onStarted(() => fourbizRest!.close());
  }
  return {
    xKeys,
    xApiBaseUrl,
    xApi,
    fourbizRest,
    fourbizSettings: { ...tenant.fourbiz, baseUrl: settings.fourbizBaseUrl ?? fourbizRest!.baseUrl },
    fourbizUser: settings.fourbizUser ?? fourbizRest?.userName,
    fourbizPassword: settings.fourbizPassword ?? fourbizRest?.password,
  };
}

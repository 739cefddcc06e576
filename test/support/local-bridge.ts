import type { LocalBridge, LocalBridgeOptions } from '../../local/start';

/** The emulators global-setup started for the suite. */
export const testEmulators = () => ({ dynamoEndpoint: process.env.TEST_DYNAMODB_ENDPOINT!, sqsEndpoint: process.env.TEST_SQS_ENDPOINT! });

/**
 * `npm start` in-process on the suite's emulators. Each bridge gets its own module registry,
 * because the handlers wire themselves from the environment once per container, as in Lambda.
 */
export async function startTestBridge(options: LocalBridgeOptions = {}): Promise<LocalBridge> {
  let bridge: LocalBridge | undefined;
  await jest.isolateModulesAsync(async () => {
    const { startLocalBridge } = await import('../../local/start');
    bridge = await startLocalBridge({ port: 0, emulators: testEmulators(), uniqueNames: true, ...options });
  });
  return bridge!;
}

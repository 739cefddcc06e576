import { startEmulators, type Emulators } from '../../local/emulators';

/**
 * Starts DynamoDB Local and fauxqs once for the integration suite. Test files create their own
 * uniquely named tables and queues, so they can run in parallel. Workers inherit the endpoints
 * through the environment.
 */
declare global {
  var __emulators__: Emulators | undefined;
}

export default async function globalSetup(): Promise<void> {
  const emulators = await startEmulators();
  globalThis.__emulators__ = emulators;
  process.env.TEST_DYNAMODB_ENDPOINT = emulators.dynamoEndpoint;
  process.env.TEST_SQS_ENDPOINT = emulators.sqsEndpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
}

import { startDynamoDbLocal, startFauxqs, type Emulator } from '../../local/emulators';

/**
 * Starts DynamoDB Local and fauxqs once for the integration suite. Test files create their own
 * uniquely named tables and queues, so they can run in parallel. Workers inherit the endpoints
 * through the environment.
 */
declare global {
  var __emulators__: Emulator[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
  globalThis.__emulators__ = [dynamo, sqs];
  process.env.TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.TEST_SQS_ENDPOINT = sqs.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
}

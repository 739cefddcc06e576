import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * The Lambda context a handler gets, for the local runner (one per invocation, its deadline
 * `timeoutMs` from now) and the tests (with a stopped clock, so the remaining time stays put).
 */
export function lambdaContext(functionName: string, timeoutMs: number, clock: () => number = Date.now): Context {
  const deadline = clock() + timeoutMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

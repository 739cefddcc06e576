import type { Context } from 'aws-lambda';
import { parseFunctionConfig, type FunctionConfig, type FunctionName } from './config';

/**
 * A Lambda entry point wired from its own typed configuration on its first call and reused for
 * the container's life: importing a handler module reads no environment, so tests import the
 * `create…Handler` factories freely.
 */
export function wireOnFirstCall<F extends FunctionName, E, R>(name: F, wire: (config: FunctionConfig<F>) => (event: E, context: Context) => Promise<R>) {
  let wired: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> => (wired ??= wire(parseFunctionConfig(name, process.env)))(event, context);
}

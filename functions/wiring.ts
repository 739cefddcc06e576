import type { Context } from 'aws-lambda';
import { runtimeConfig, type RuntimeConfig } from './config';

/**
 * A Lambda entry point wired from the runtime config on its first call and reused for the
 * container's life: importing a handler module reads no environment, so tests import the
 * `create…Handler` factories freely.
 */
export function wireOnFirstCall<E, R>(wire: (config: RuntimeConfig) => (event: E, context: Context) => Promise<R>) {
  let wired: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> => (wired ??= wire(runtimeConfig()))(event, context);
}

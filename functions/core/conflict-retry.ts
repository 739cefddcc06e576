import { ConflictError } from './errors';

/** How many times a read-modify-write of a conversation is tried before the conflict is an error. */
export const CONFLICT_ATTEMPTS = 5;

/**
 * Runs a read-modify-write step of a conversation again when another writer (dispatcher, poller,
 * sender) changed it meanwhile. `attempt` starts at 0, so the first run may reuse what it read.
 */
export async function withConflictRetry<T>(attempts: number, step: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step(attempt);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt + 1 >= attempts) throw err;
    }
  }
}

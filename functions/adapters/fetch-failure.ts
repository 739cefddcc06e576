/**
 * Why a fetch to 4biz or X got no answer, in words for a log line: `AbortSignal.timeout` rejects
 * with a DOMException named `TimeoutError` (the spec's way to tell it apart), anything else is a
 * network failure with its own message.
 */
export function describeFetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads an HTTP answer's body up to a size cap, chunk by chunk, so an answer of any size costs at
 * most `maxBytes` of memory: a declared Content-Length over the cap is refused before reading, and
 * a body that grows past it is cancelled at once (the rest is never downloaded).
 */
type BoundedBody = { ok: true; bytes: Buffer } | { ok: false; reason: string };

export async function readBounded(res: Response, maxBytes: number): Promise<BoundedBody> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: false, reason: `${declared} bytes, over the ${maxBytes}-byte cap` };
  }
  const reader = res.body?.getReader();
  if (!reader) return { ok: true, bytes: Buffer.alloc(0) };
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { ok: true, bytes: Buffer.concat(chunks, size) };
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: `over the ${maxBytes}-byte cap` };
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
}

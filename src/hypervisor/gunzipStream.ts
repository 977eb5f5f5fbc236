/**
 * Inflates a .gz download in the page. Some servers (vite preview, nginx with
 * gzip_static) send a .gz file with Content-Encoding: gzip, so the browser has already
 * inflated it; the gzip magic bytes (1f 8b) decide, not the file name.
 */
export async function gunzipIfCompressed(body: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const first = await reader.read();
  const head = first.value ?? new Uint8Array(0);
  const replay = new ReadableStream<Uint8Array>({
    start(ctl) {
      if (head.length) ctl.enqueue(head);
      if (first.done) ctl.close();
    },
    async pull(ctl) {
      const { done, value } = await reader.read();
      if (done) ctl.close();
      else ctl.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  return gzipped ? replay.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>) : replay;
}

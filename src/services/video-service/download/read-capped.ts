import type { Dispatcher } from 'undici';

export type CappedRead = { ok: true; bytes: Buffer } | { ok: false; detail: string };

/**
 * A response body read into memory, at most `maxBytes`: a declared length over the cap is refused
 * before a byte is read, and a body that grows past it is cut off there.
 */
export async function readCapped(response: Dispatcher.ResponseData, maxBytes: number): Promise<CappedRead> {
  const { headers, body } = response;
  if (Number(headers['content-length'] ?? 0) > maxBytes) {
    discard(body);
    return { ok: false, detail: `content-length ${headers['content-length']}` };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      discard(body);
      return { ok: false, detail: `more than ${maxBytes} bytes` };
    }
    chunks.push(chunk);
  }
  return { ok: true, bytes: Buffer.concat(chunks, size) };
}

/**
 * Drops a body not read to its end. undici reports such a body as aborted through an 'error'
 * event; nobody reads it any more, so that event is expected and must not crash the process.
 */
export function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

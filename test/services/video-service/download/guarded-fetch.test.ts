import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GuardedFetchOptions,
  guardedFetch,
  IMAGE_TYPES,
  VIDEO_TYPES,
} from '../../../../src/services/video-service/download/guarded-fetch.ts';

/**
 * The one guarded fetch, against real loopback servers: one standing in for a relay (its own
 * configured origin, so trusted), one for whatever it redirects to.
 */

interface Seen {
  path: string;
  authorization?: string;
}

interface Stand {
  origin: string;
  seen: Seen[];
  close(): Promise<void>;
}

const stands: Stand[] = [];
afterEach(async () => {
  await Promise.all(stands.splice(0).map((stand) => stand.close()));
});

async function stand(
  answer: (request: IncomingMessage, response: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<Stand> {
  const seen: Seen[] = [];
  const server: Server = createServer((request, response) => {
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization });
    answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const made: Stand = {
    origin: `http://${host}:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  stands.push(made);
  return made;
}

const MP4 = Buffer.alloc(2_048, 7);
const serveVideo = (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'video/mp4', 'content-length': MP4.length }).end(MP4);
};
const redirectTo = (location: string) => (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(302, { location }).end();
};

const KEY = 'sk-guarded-fetch-test-key-0000';
const base = (overrides: Partial<GuardedFetchOptions> = {}): GuardedFetchOptions => ({
  maxBytes: 10_000,
  allowedTypes: VIDEO_TYPES,
  allowPrivate: false,
  timeoutMs: 5_000,
  ...overrides,
});

describe('guardedFetch', () => {
  it("trusts the service's own origin, but refuses where it redirects to on loopback, without a request there", async () => {
    const internal = await stand(serveVideo);
    const relay = await stand(redirectTo(`${internal.origin}/secret`));
    const result = await guardedFetch(`${relay.origin}/v1/videos/1/content`, {
      ...base({ firstHopTrusted: true }),
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(result).toMatchObject({ ok: false, why: 'refused' });
    expect(relay.seen).toHaveLength(1);
    expect(internal.seen).toEqual([]);
  });

  it('refuses a loopback or plain-http first hop that is not the trusted one', async () => {
    const internal = await stand(serveVideo);
    expect(await guardedFetch(`${internal.origin}/video.mp4`, base())).toMatchObject({
      ok: false,
      why: 'refused',
      detail: 'only https is fetched',
    });
    expect(await guardedFetch('https://127.0.0.1:1/video.mp4', base())).toMatchObject({
      ok: false,
      why: 'refused',
      detail: 'private address',
    });
    expect(await guardedFetch('file:///etc/passwd', base({ allowPrivate: true }))).toMatchObject({
      ok: false,
      why: 'refused',
    });
    expect(internal.seen).toEqual([]);
  });

  it('refuses a name that resolves to loopback, checked at connect time (so DNS rebinding too)', async () => {
    const relay = await stand(redirectTo('https://localhost:1/video.mp4'));
    expect(await guardedFetch(`${relay.origin}/content`, base({ firstHopTrusted: true }))).toMatchObject({
      ok: false,
      why: 'refused',
      detail: expect.stringContaining('non-public address'),
    });
  });

  it('with allowPrivate, follows the redirect but never takes the key to another origin', async () => {
    const storage = await stand(serveVideo, '127.0.0.2');
    const relay = await stand(redirectTo(`${storage.origin}/file.mp4`));
    const result = await guardedFetch(`${relay.origin}/content`, {
      ...base({ firstHopTrusted: true, allowPrivate: true }),
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(result).toMatchObject({ ok: true, contentType: 'video/mp4', url: `${storage.origin}/file.mp4` });
    expect(result.ok && result.bytes.equals(MP4)).toBe(true);
    expect(relay.seen[0]?.authorization).toBe(`Bearer ${KEY}`);
    expect(storage.seen).toEqual([{ path: '/file.mp4', authorization: undefined }]);
  });

  it('keeps the key on a redirect within the same origin', async () => {
    const relay = await stand((request, response) => {
      if (request.url === '/content') return redirectTo('/files/1.mp4')(request, response);
      serveVideo(request, response);
    });
    const result = await guardedFetch(`${relay.origin}/content`, {
      ...base({ firstHopTrusted: true }),
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(result.ok).toBe(true);
    expect(relay.seen.map((seen) => seen.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
  });

  it('accepts only the allowed types: an html page is not a video, a video is not an image', async () => {
    const page = await stand((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    });
    expect(await guardedFetch(`${page.origin}/`, base({ allowPrivate: true }))).toMatchObject({
      ok: false,
      why: 'wrong-type',
      contentType: 'text/html',
      body: '<html>login</html>',
    });
    const video = await stand(serveVideo);
    expect(
      await guardedFetch(`${video.origin}/`, base({ allowPrivate: true, allowedTypes: IMAGE_TYPES })),
    ).toMatchObject({ ok: false, why: 'wrong-type' });
  });

  it('answers too-large past maxBytes, and the status of an error answer', async () => {
    const video = await stand(serveVideo);
    expect(
      await guardedFetch(`${video.origin}/`, base({ allowPrivate: true, maxBytes: 1_000 })),
    ).toMatchObject({ ok: false, why: 'too-large' });
    const gone = await stand((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"gone"}');
    });
    expect(await guardedFetch(`${gone.origin}/`, base({ allowPrivate: true }))).toMatchObject({
      ok: false,
      why: 'http-status',
      status: 404,
      body: '{"error":"gone"}',
    });
  });

  it('stops after the redirect limit', async () => {
    const loop = await stand(redirectTo('/again'));
    expect(
      await guardedFetch(`${loop.origin}/`, base({ allowPrivate: true, maxRedirects: 2 })),
    ).toMatchObject({
      ok: false,
      why: 'too-many-redirects',
    });
    expect(loop.seen).toHaveLength(3);
  });

  it('ends at timeoutMs on a server that never answers, and throws the reason on cancel', async () => {
    const silent = await stand(() => {});
    expect(
      await guardedFetch(`${silent.origin}/`, base({ allowPrivate: true, timeoutMs: 200 })),
    ).toMatchObject({
      ok: false,
      why: 'timeout',
    });
    const cancel = new AbortController();
    const pending = guardedFetch(`${silent.origin}/`, base({ allowPrivate: true, signal: cancel.signal }));
    const reason = new Error('cancelled by the member');
    // Cancelled once the request is on its way, not before.
    while (silent.seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
    cancel.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

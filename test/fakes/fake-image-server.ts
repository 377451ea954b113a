import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A one-pixel PNG: the starting image members attach. */
export const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

export interface FakeImageServer {
  origin: string;
  /** `${origin}/cat.png`: serves PNG. */
  imageUrl: string;
  hits: string[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 standing in for Discord's CDN: `/cat.png`, 404 otherwise. */
export async function startFakeImageServer(): Promise<FakeImageServer> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(request.url ?? '/');
    if ((request.url ?? '').startsWith('/cat.png')) {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    imageUrl: `${origin}/cat.png`,
    hits,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

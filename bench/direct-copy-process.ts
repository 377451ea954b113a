import { FormData, request } from 'undici';

/**
 * Bench 4's yardstick, in a process of its own like the bot: copy a video from the fake relay to
 * the fake Discord directly. Acknowledges the interaction once (not timed), then on each `copy`
 * message: GET the video into memory and PATCH it into the interaction's reply as a multipart
 * upload, the way the bot's final edit does, and report the wall time and peak RSS so far.
 */

export interface DirectCopyRun {
  copyMs: number;
  rssPeak: number;
}

const [videoUrl, callbackUrl, editUrl] = process.argv.slice(2) as [string, string, string];

async function ok(response: Awaited<ReturnType<typeof request>>): Promise<void> {
  const text = await response.body.text();
  if (response.statusCode >= 300)
    throw new Error(`direct copy: HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
}

async function copyOnce(): Promise<number> {
  const started = performance.now();
  const video = Buffer.from(await (await request(videoUrl)).body.arrayBuffer());
  const form = new FormData();
  form.append('files[0]', new Blob([video], { type: 'video/mp4' }), 'video.mp4');
  form.append(
    'payload_json',
    JSON.stringify({ content: 'copied', attachments: [{ id: '0', filename: 'video.mp4' }] }),
  );
  await ok(await request(editUrl, { method: 'PATCH', body: form }));
  return performance.now() - started;
}

await ok(
  await request(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 5 }),
  }),
);
let rssPeak = process.memoryUsage.rss();
setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 5).unref();
process.on('message', async (message: { cmd: 'copy' | 'stop' }) => {
  if (message.cmd === 'stop') process.exit(0);
  const copyMs = await copyOnce();
  const run: DirectCopyRun = { copyMs, rssPeak: Math.max(rssPeak, process.resourceUsage().maxRSS * 1024) };
  process.send?.(run);
});
process.on('disconnect', () => process.exit(1));
process.send?.('ready');

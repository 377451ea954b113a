import OpenAI from 'openai';
import { request } from 'undici';
import { RelayVideoProvider } from '../src/services/video-service/relay/relay-video-provider.ts';
import type { VideoEvent } from '../src/services/video-service/video-provider.ts';

/**
 * One stream client in a process of its own (bench 3): reads the same relay stream `runs` times
 * after `warmups`, and reports the CPU time and wall time of each read over IPC. The process does
 * nothing else meanwhile, so its CPU time is the client's.
 *
 *   bot:    the bot's service client (RelayVideoProvider: undici, eventsource-parser, interpreter)
 *   openai: the `openai` package's streaming chat completion, iterated chunk by chunk
 *   raw:    undici `request` reading the body bytes and nothing more (the floor)
 *   decode: the raw read, cut into `data:` frames, each JSON.parse'd: the least any client that
 *           looks inside the frames must do
 */

export type ClientKind = 'bot' | 'openai' | 'raw' | 'decode';

export interface ClientRun {
  wallMs: number;
  cpuMs: number;
  /** What the client got out of the stream, to check it read all of it. */
  items: number;
}

export interface ClientReport {
  kind: ClientKind;
  runs: ClientRun[];
  outcome: string;
}

const API_KEY = 'sk-bench-stream-0123456789';
const [kind, apiUrl, warmupsArg, runsArg] = process.argv.slice(2) as [ClientKind, string, string, string];

async function readOnce(): Promise<{ items: number; outcome: string }> {
  switch (kind) {
    case 'bot': {
      const provider = new RelayVideoProvider({
        apiUrl,
        apiKey: API_KEY,
        stallTimeoutMs: 60_000,
        timeoutMs: 600_000,
      });
      let items = 0;
      let last: VideoEvent | undefined;
      for await (const event of provider.generate(
        { prompt: 'bench', model: 'sora-2' },
        new AbortController().signal,
      )) {
        items += 1;
        last = event;
      }
      return { items, outcome: last?.type ?? 'none' };
    }
    case 'openai': {
      const client = new OpenAI({ apiKey: API_KEY, baseURL: apiUrl, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'sora-2',
        stream: true,
        messages: [{ role: 'user', content: 'bench' }],
      });
      let items = 0;
      let text = 0;
      for await (const chunk of stream) {
        items += 1;
        text += chunk.choices[0]?.delta?.content?.length ?? 0;
      }
      return { items, outcome: `${text} content chars` };
    }
    case 'raw': {
      let bytes = 0;
      for await (const chunk of await rawBody()) bytes += chunk.length;
      return { items: bytes, outcome: 'bytes' };
    }
    case 'decode': {
      const decoder = new TextDecoder();
      let pending = '';
      let frames = 0;
      for await (const chunk of await rawBody()) {
        const parts = (pending + decoder.decode(chunk, { stream: true })).split('\n\n');
        pending = parts.pop() ?? '';
        for (const frame of parts) {
          const data = frame.slice('data: '.length);
          if (data !== '[DONE]') JSON.parse(data);
          frames += 1;
        }
      }
      return { items: frames, outcome: 'frames' };
    }
  }
}

async function rawBody(): Promise<AsyncIterable<Uint8Array>> {
  const { body } = await request(`${apiUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sora-2', stream: true, messages: [{ role: 'user', content: 'bench' }] }),
  });
  return body as AsyncIterable<Uint8Array>;
}

const runs: ClientRun[] = [];
let outcome = '';
const total = Number(warmupsArg) + Number(runsArg);
for (let index = 0; index < total; index++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await readOnce();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  outcome = result.outcome;
  if (index >= Number(warmupsArg))
    runs.push({ wallMs, cpuMs: (used.user + used.system) / 1000, items: result.items });
}
const report: ClientReport = { kind, runs, outcome };
process.send?.(report, () => process.exit(0));

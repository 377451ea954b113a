import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';

const STREAMS_DIR = fileURLToPath(new URL('../fixtures/streams/', import.meta.url));

/** A recorded or synthesized relay reply from test/fixtures/streams, e.g. `01-aiclound-zh-success.sse` or `errors/…json`. */
export function readStreamFixture(name: string): string {
  return readFileSync(`${STREAMS_DIR}${name}`, 'utf8');
}

/** Every `.sse` transcript, sorted by name. */
export function streamFixtureNames(): string[] {
  return readdirSync(STREAMS_DIR)
    .filter((name) => name.endsWith('.sse'))
    .sort();
}

/** Every HTTP error body, as `errors/<status>-….json`; the status is the name's first number. */
export function errorFixtureNames(): string[] {
  return readdirSync(`${STREAMS_DIR}errors`)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => `errors/${name}`);
}

/** An SSE transcript cut into its frames (the text between blank lines), separators dropped. */
export function splitSseFrames(transcript: string): string[] {
  return transcript.split(/\r?\n\r?\n/).filter((frame) => frame.trim() !== '');
}

/** The data payloads of a transcript as the provider hands them to the interpreter, up to `[DONE]`. */
export function ssePayloads(transcript: string): unknown[] {
  const payloads: unknown[] = [];
  let done = false;
  const parser = createParser({
    onEvent: ({ data }) => {
      if (data === '[DONE]') done = true;
      if (done) return;
      try {
        payloads.push(JSON.parse(data));
      } catch {
        payloads.push(data);
      }
    },
  });
  parser.feed(transcript);
  parser.reset({ consume: true });
  return payloads;
}

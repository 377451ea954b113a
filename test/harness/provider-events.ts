import type { VideoEvent } from '../../src/services/video-service/video-provider.ts';
import { inEnglish } from './in-english.ts';

/**
 * Reading what a video provider yielded, the same for every shape's tests (the Videos API,
 * OpenRouter, Gemini, fal, Replicate).
 */

/** A signal no one aborts. */
export function signal(): AbortSignal {
  return new AbortController().signal;
}

/** Every event of a run that ends without a throw. */
export async function collect(events: AsyncIterable<VideoEvent>): Promise<VideoEvent[]> {
  const seen: VideoEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

/** The event types in order, repeats of one type folded. */
export function shape(events: VideoEvent[]): string[] {
  return events.map((event) => event.type).filter((type, index, types) => types[index - 1] !== type);
}

/** The service's job id, from the `created` event a run opens with. */
export function createdId(events: VideoEvent[]): string {
  const created = events[0];
  if (created?.type !== 'created') throw new Error(`first event is ${created?.type}`);
  return created.serviceJobId;
}

export function succeeded(events: VideoEvent[]): Extract<VideoEvent, { type: 'succeeded' }> {
  const last = events.at(-1);
  if (last?.type !== 'succeeded') throw new Error(`last event is ${JSON.stringify(last)}`);
  return last;
}

/** The reason of the `failed` event a run ends with, as an English-speaking member reads it. */
export function failedReason(events: VideoEvent[]): string {
  const last = events.at(-1);
  if (last?.type !== 'failed') throw new Error(`last event is ${JSON.stringify(last)}`);
  return inEnglish(last.reason);
}

import type { RESTOptions } from 'discord.js';

/** The first answer to an interaction, as the body of Discord's HTTP request to the bot. */
export interface CallbackAnswer {
  contentType: string;
  body: Buffer;
}

type MakeRequest = RESTOptions['makeRequest'];

const CALLBACK_ROUTE = /\/interactions\/(\d+)\/[^/]+\/callback(?:\?|$)/;

/**
 * Turns the first answer to an interaction that came over HTTP into the HTTP response. The
 * handlers answer through discord.js as they do for the gateway (`deferReply`, `reply`,
 * `showModal`, …), which POSTs the interaction callback; for an interaction still waiting on its
 * HTTP request, that POST is taken here instead of being sent, and becomes the response body.
 * Everything after it (edits, followups) goes through the webhook routes as usual.
 */
export class InteractionCallbacks {
  private readonly waiting = new Map<string, (answer: CallbackAnswer) => void>();

  /** Resolves with the interaction's first answer, or undefined after `timeoutMs`. */
  awaitAnswer(interactionId: string, timeoutMs: number): Promise<CallbackAnswer | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(interactionId);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(interactionId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  /** `makeRequest` for discord.js's REST: callbacks of waiting HTTP interactions stay here. */
  wrap(makeRequest: MakeRequest): MakeRequest {
    return async (url, init) => {
      const id = CALLBACK_ROUTE.exec(url)?.[1];
      const answer = id === undefined ? undefined : this.waiting.get(id);
      if (id === undefined || !answer) return makeRequest(url, init);
      this.waiting.delete(id);
      answer(await asAnswer(init));
      // What Discord answers a callback without `with_response`.
      return new Response(null, { status: 204 });
    };
  }
}

async function asAnswer(init: Parameters<MakeRequest>[1]): Promise<CallbackAnswer> {
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  // A reply with files is multipart; Response encodes it (and its boundary) as the HTTP body.
  const encoded = new Response(init.body as ConstructorParameters<typeof Response>[0]);
  const isForm = typeof init.body !== 'string' && !(init.body instanceof Uint8Array);
  const contentType =
    (isForm ? encoded.headers.get('content-type') : headers.get('content-type')) ?? 'application/json';
  return { contentType, body: Buffer.from(await encoded.arrayBuffer()) };
}

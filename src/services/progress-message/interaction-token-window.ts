/**
 * The one policy for how long the bot uses an interaction's token. Discord lets a token be used for
 * a fixed lifetime after the interaction was created (15 minutes; shorter in tests). Progress moves
 * to a channel message a margin before expiry; the token stays usable for half of that margin more,
 * so the reply can still say where the job went, and nothing is ever sent near the expiry.
 */
export interface InteractionTokenWindow {
  /** From then on progress moves to a channel message. */
  handOverAt: number;
  /** The last moment a request may be sent with the token. */
  usableUntil: number;
}

export function interactionTokenWindow(createdAt: number, tokenLifetimeMs: number): InteractionTokenWindow {
  const expiresAt = createdAt + tokenLifetimeMs;
  const margin = handoverMargin(tokenLifetimeMs);
  return { handOverAt: expiresAt - margin, usableUntil: expiresAt - Math.floor(margin / 2) };
}

/** Leave a minute before the token dies (less when the lifetime is scaled down in tests). */
function handoverMargin(tokenLifetimeMs: number): number {
  return Math.min(60_000, Math.floor(tokenLifetimeMs / 10));
}

import type { APIInteraction, Client } from 'discord.js';

/**
 * Interactions that arrive over HTTP become the same discord.js objects the gateway gives, so
 * every handler runs unchanged. discord.js has no public way to build one from a payload (the
 * constructors are private); its own InteractionCreate action does exactly this for the gateway
 * and emits `interactionCreate`, so it is used here, in this one place, and checked at start: a
 * discord.js upgrade that moves it stops the bot at once instead of dropping interactions.
 */
interface InteractionAction {
  handle(data: APIInteraction): void;
}

export function rawInteractionHandler(client: Client): (interaction: APIInteraction) => void {
  const action = (client as unknown as { actions?: { InteractionCreate?: InteractionAction } }).actions
    ?.InteractionCreate;
  if (typeof action?.handle !== 'function') {
    throw new Error(
      'this discord.js version cannot build interactions from HTTP payloads (INTERACTIONS_PORT)',
    );
  }
  return (interaction) => action.handle(interaction);
}

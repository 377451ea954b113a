import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  Message,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
  RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';

/**
 * The front doors. Each command file exports a factory `createXCommand(deps)` returning one of
 * these; dependencies come in through the factory, never from globals. `src/app.ts` collects them
 * and routes interactions and messages by name or custom-id prefix.
 */

export interface SlashCommand {
  kind: 'slash';
  definition: RESTPostAPIApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction): Promise<void>;
}

export interface MessageMenuCommand {
  kind: 'message-menu';
  definition: RESTPostAPIApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction): Promise<void>;
}

export type ApplicationCommand = SlashCommand | MessageMenuCommand;

/** Buttons are routed by the part of their custom id before the first ':'. */
export interface ButtonHandler {
  prefix: string;
  execute(interaction: ButtonInteraction): Promise<void>;
}

/** Modals are routed the same way as buttons. */
export interface ModalHandler {
  prefix: string;
  execute(interaction: ModalSubmitInteraction): Promise<void>;
}

/** A chat trigger: looks at every message, acts on the ones meant for the bot. */
export interface MessageTrigger {
  name: string;
  triggered(message: Message): boolean;
  execute(message: Message): Promise<void>;
}

export function customIdPrefix(customId: string): string {
  const colon = customId.indexOf(':');
  return colon === -1 ? customId : customId.slice(0, colon);
}

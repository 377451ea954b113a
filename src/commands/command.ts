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
 * these; dependencies come in through the factory, never from globals. `definitions.ts` lists the
 * application commands, `src/app/front-doors.ts` the rest, and the router sends interactions and
 * messages to them by name or custom-id prefix.
 *
 * A handler declares what must hold before it runs (`preconditions`, checked in order; the first
 * refusal is told to the member privately, in one place) and, for the ones that start a job, that
 * the router answers with a public "thinking…" reply first (`defer: 'public'`).
 */

/** A named check; it returns what to tell the member when the interaction may not go on. */
export interface Precondition<I> {
  name: string;
  check(interaction: I): string | undefined | Promise<string | undefined>;
}

interface Guarded<I> {
  preconditions?: readonly Precondition<I>[];
  /** `public`: the router defers the reply publicly once the preconditions hold. */
  defer?: 'public';
}

export interface SlashCommand extends Guarded<ChatInputCommandInteraction> {
  kind: 'slash';
  definition: RESTPostAPIApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction): Promise<void>;
}

export interface MessageMenuCommand extends Guarded<MessageContextMenuCommandInteraction> {
  kind: 'message-menu';
  definition: RESTPostAPIApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction): Promise<void>;
}

export type ApplicationCommand = SlashCommand | MessageMenuCommand;

/** Buttons are routed by the part of their custom id before the first ':'. */
export interface ButtonHandler extends Guarded<ButtonInteraction> {
  prefix: string;
  execute(interaction: ButtonInteraction): Promise<void>;
}

/** Modals are routed the same way as buttons. */
export interface ModalHandler extends Guarded<ModalSubmitInteraction> {
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

/** The part of a custom id after its prefix, e.g. the job id of `cancel:<jobId>`. */
export function customIdArgument(customId: string): string {
  const colon = customId.indexOf(':');
  return colon === -1 ? '' : customId.slice(colon + 1);
}

import type { Interaction, Message, RepliableInteraction } from 'discord.js';
import { translatorFor } from '../services/i18n/translator.ts';
import type { Logger } from '../services/logging/logger.ts';
import { StoreUnavailableError } from '../services/shared/errors.ts';
import {
  type ApplicationCommand,
  type ButtonHandler,
  customIdPrefix,
  type MessageTrigger,
  type ModalHandler,
  type Precondition,
} from './command.ts';
import { replyInChat, replyPrivately } from './replies.ts';

export interface RouterParts {
  commands: ApplicationCommand[];
  buttons: ButtonHandler[];
  modals: ModalHandler[];
  triggers: MessageTrigger[];
  logger: Logger;
}

/**
 * Sends each interaction and message to its handler, and makes sure a failure in any handler
 * still ends with a message: a reply never stays on "thinking…".
 */
export class Router {
  private readonly commands: Map<string, ApplicationCommand>;
  private readonly buttons: Map<string, ButtonHandler>;
  private readonly modals: Map<string, ModalHandler>;

  constructor(private readonly parts: RouterParts) {
    this.commands = new Map(parts.commands.map((command) => [command.definition.name, command]));
    this.buttons = new Map(parts.buttons.map((handler) => [handler.prefix, handler]));
    this.modals = new Map(parts.modals.map((handler) => [handler.prefix, handler]));
  }

  async handleInteraction(interaction: Interaction): Promise<void> {
    try {
      await this.dispatch(interaction);
    } catch (error) {
      this.parts.logger.error('interaction_failed', {
        interactionId: interaction.id,
        type: interaction.type,
        error,
      });
      if (interaction.isRepliable())
        await apologise(interaction, this.parts.logger, apologyFor(error, interaction.locale));
    }
  }

  async handleMessage(message: Message): Promise<void> {
    for (const trigger of this.parts.triggers) {
      if (!trigger.triggered(message)) continue;
      try {
        await trigger.execute(message);
      } catch (error) {
        this.parts.logger.error('trigger_failed', { trigger: trigger.name, messageId: message.id, error });
        // A chat message carries no locale: the server's in Discord (the store may be what failed).
        const locale = message.guild?.preferredLocale;
        await replyInChat(message, apologyFor(error, locale), locale).catch(() => {});
      }
      return;
    }
  }

  private async dispatch(interaction: Interaction): Promise<void> {
    if (interaction.isChatInputCommand()) {
      const command = this.commands.get(interaction.commandName);
      if (command?.kind === 'slash') await this.run(command, interaction);
    } else if (interaction.isAutocomplete()) {
      const command = this.commands.get(interaction.commandName);
      if (command?.kind === 'slash') await command.autocomplete?.(interaction);
    } else if (interaction.isMessageContextMenuCommand()) {
      const command = this.commands.get(interaction.commandName);
      if (command?.kind === 'message-menu') await this.run(command, interaction);
    } else if (interaction.isButton()) {
      const handler = this.buttons.get(customIdPrefix(interaction.customId));
      if (handler) await this.run(handler, interaction);
    } else if (interaction.isModalSubmit()) {
      const handler = this.modals.get(customIdPrefix(interaction.customId));
      if (handler) await this.run(handler, interaction);
    }
  }

  /** The one place a handler's preconditions are checked, refusals told and public replies deferred. */
  private async run<I extends RepliableInteraction>(
    handler: {
      preconditions?: readonly Precondition<I>[];
      defer?: 'public';
      execute(interaction: I): Promise<void>;
    },
    interaction: I,
  ): Promise<void> {
    for (const precondition of handler.preconditions ?? []) {
      const refusal = await precondition.check(interaction);
      if (refusal === undefined) continue;
      this.parts.logger.info('interaction_denied', {
        interactionId: interaction.id,
        userId: interaction.user.id,
        guildId: interaction.guildId,
        precondition: precondition.name,
      });
      await replyPrivately(interaction, refusal);
      return;
    }
    if (handler.defer === 'public') await interaction.deferReply();
    await handler.execute(interaction);
  }
}

/** A store outage is said as such: the member can do nothing but wait a minute. */
function apologyFor(error: unknown, locale: string | null | undefined): string {
  return translatorFor(locale)(error instanceof StoreUnavailableError ? 'error.storeDown' : 'error.apology');
}

async function apologise(interaction: RepliableInteraction, logger: Logger, apology: string): Promise<void> {
  try {
    if (interaction.deferred || interaction.replied) {
      await interaction.editReply({
        content: `❌ ${apology}`,
        components: [],
        allowedMentions: { parse: [] },
      });
    } else {
      await replyPrivately(interaction, apology);
    }
  } catch (error) {
    logger.warn('apology_failed', { interactionId: interaction.id, error });
  }
}

import { type BaseInteraction, PermissionFlagsBits, type PermissionsBitField } from 'discord.js';
import { english, translatorFor } from '../services/i18n/translator.ts';
import { customIdArgument, type Precondition } from './command.ts';
import { DMS_OFF } from './replies.ts';

/**
 * Checks done by the bot itself, named so every handler declares the ones it needs: Discord's
 * `default_member_permissions` is only a default that server admins can override, and buttons are
 * never gated at all.
 */

interface HasMemberPermissions {
  memberPermissions: Readonly<PermissionsBitField> | null;
}

export function canManageServer(interaction: HasMemberPermissions): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}

/** The refusal in English, as most tests and logs read it. */
export const MANAGE_SERVER_REQUIRED = english('error.manageServer');

/** In a server, by a member with Manage Server. */
export const managesServer: Precondition<BaseInteraction & HasMemberPermissions> = {
  name: 'manages-server',
  check: (interaction) =>
    interaction.inGuild() && canManageServer(interaction)
      ? undefined
      : translatorFor(interaction.locale)('error.manageServer'),
};

/** What to tell a member who may not press a job's button, as keys of the locale files. */
export interface JobOwnerRefusals {
  /** The job is not known (any more). */
  unknown: string;
  /** Someone else's job, and no Manage Server. */
  notYours: string;
}

/** A button on a job's message, or a form it opened: the custom id carries the job id. */
type OnAJob = BaseInteraction & HasMemberPermissions & { customId: string };

/**
 * A button on a job's message (or the form it opened) may be used by the member who asked for the
 * job, or by someone with Manage Server; `requesterIdOf` finds who asked from the job id in the
 * custom id.
 */
export function requesterOrServerManager(
  requesterIdOf: (jobId: string) => string | undefined | Promise<string | undefined>,
  refusals: JobOwnerRefusals,
): Precondition<OnAJob> {
  return {
    name: 'requester-or-server-manager',
    async check(interaction) {
      const t = translatorFor(interaction.locale);
      const requesterId = await requesterIdOf(customIdArgument(interaction.customId));
      if (!requesterId) return t(refusals.unknown);
      if (requesterId !== interaction.user.id && !canManageServer(interaction)) return t(refusals.notYours);
      return undefined;
    },
  };
}

/**
 * Outside a server only when the operator allows DMs (ALLOW_DMS): the job commands are registered
 * for DMs too, since a member's own install goes wherever they are.
 */
export function directMessagesAllowed(allowDms: boolean): Precondition<BaseInteraction> {
  return {
    name: 'direct-messages-allowed',
    check: (interaction) =>
      interaction.guildId === null && !allowDms ? translatorFor(interaction.locale)(DMS_OFF) : undefined,
  };
}

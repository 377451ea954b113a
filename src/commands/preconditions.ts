import { PermissionFlagsBits, type PermissionsBitField } from 'discord.js';

/**
 * Permission checks done by the bot itself: Discord's `default_member_permissions` is only a
 * default that server admins can override, and buttons are never gated at all.
 */

interface HasMemberPermissions {
  memberPermissions: Readonly<PermissionsBitField> | null;
}

export function canManageServer(interaction: HasMemberPermissions): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
}

export const MANAGE_SERVER_REQUIRED = 'Only members with the **Manage Server** permission can do that.';

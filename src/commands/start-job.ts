import {
  ButtonStyle,
  ComponentType,
  type Message,
  MessageFlags,
  type RepliableInteraction,
} from 'discord.js';
import type { MemberText } from '../services/i18n/member-text.ts';
import { translatorFor } from '../services/i18n/translator.ts';
import type { JobIntake } from '../services/intake/job-intake.ts';
import type { JobAsk } from '../services/jobs/job.ts';
import {
  channelAgeRestrictedOf,
  isOwnInstallOnly,
  requesterOf,
  requesterOfMessage,
} from './input/requester.ts';
import { replyInChat } from './replies.ts';

/**
 * The front doors' way into the intake: the request, who asks and where the progress will live,
 * read off the discord.js object; a refusal told the member the way this front door can.
 */

/** For an interaction the caller has already deferred publicly; a refusal replaces the "thinking…" reply. */
export async function startFromInteraction(
  intake: JobIntake,
  interaction: RepliableInteraction,
  ask: JobAsk,
): Promise<void> {
  const ownInstall = isOwnInstallOnly(interaction);
  const localised = {
    ...ask,
    // The job belongs to the member: no server's settings, rules or quota apply.
    guildId: ownInstall ? null : ask.guildId,
    locale: interaction.locale,
    serverLocale: interaction.guildLocale ?? undefined,
    // Where the job is asked now: a Retry or Remix may be pressed elsewhere than the first job.
    channelAgeRestricted: channelAgeRestrictedOf(interaction.channel),
  };
  const result = await intake.start(localised, requesterOf(interaction), {
    kind: 'interaction-reply',
    applicationId: interaction.applicationId,
    token: interaction.token,
    createdAt: interaction.createdTimestamp,
    channelId: ask.channelId,
    uploadLimitBytes: interaction.attachmentSizeLimit,
    ...(ownInstall ? { directMessageTo: interaction.user.id } : {}),
  });
  if (result.ok) return;
  await interaction.deleteReply().catch(() => undefined);
  await interaction.followUp({
    content: refusalText(result.message, interaction.locale),
    flags: MessageFlags.Ephemeral,
    allowedMentions: { parse: [] },
    components: premiumButtons(result.premiumSkuIds),
  });
}

/** Discord's premium buttons (style 6, no label: Discord shows the SKU's name and price), five a row. */
function premiumButtons(skuIds: readonly string[] | undefined) {
  if (!skuIds || skuIds.length === 0) return [];
  const rows = [];
  for (let i = 0; i < skuIds.length && rows.length < 5; i += 5)
    rows.push({
      type: ComponentType.ActionRow,
      components: skuIds.slice(i, i + 5).map((skuId) => ({
        type: ComponentType.Button,
        style: ButtonStyle.Premium,
        sku_id: skuId,
      })),
    });
  return rows as never[];
}

/**
 * For a chat message: the progress lives in the bot's reply to it; a refusal is that reply (or a
 * DM). The ask carries its `locale` already: the server's language, which the trigger looked up.
 */
export async function startFromMessage(intake: JobIntake, message: Message, ask: JobAsk): Promise<void> {
  const where = { channelAgeRestricted: channelAgeRestrictedOf(message.channel) };
  const result = await intake.start({ ...ask, ...where }, requesterOfMessage(message), {
    kind: 'chat-reply',
    channelId: message.channelId,
    replyTo: message.id,
  });
  if (!result.ok) await replyInChat(message, refusalText(result.message, ask.locale), ask.locale);
}

function refusalText(message: MemberText | string, locale: string | undefined): string {
  return typeof message === 'string' ? message : translatorFor(locale).text(message);
}

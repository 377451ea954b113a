import type { Attachment, Message } from 'discord.js';
import type { Catalogue, CatalogueModel } from '../../services/catalogue/catalogue.ts';
import { modelIds } from '../../services/catalogue/catalogue-offer.ts';
import { english, type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobAsk } from '../../services/jobs/job.ts';
import type { MessageTrigger } from '../command.ts';
import { parseInlineOptions } from '../input/inline-options.ts';
import { checkImage, checkPrompt, isAcceptedImage, sanitiseFileName } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { localeOfMessage, type ServerLanguage } from '../languages.ts';
import { DMS_OFF, replyInChat } from '../replies.ts';
import { startFromMessage } from '../start-job.ts';

export interface MentionTriggerOptions {
  intake: JobIntake;
  catalogue: Catalogue;
  maxPromptLength: number;
  maxImageBytes: number;
  allowDms: boolean;
  /** The server's language, which a mention is answered in (a chat message carries no locale). */
  serverLanguage: ServerLanguage;
}

/** Discord's limit on a message; models past it are left out of the help. */
const MESSAGE_LIMIT = 2000;

/**
 * What a mention without an image gets: the three ways to ask, the flags, and each model with
 * what it can do. Command and option names as the member sees them in their language; flags and
 * model ids as they are typed.
 */
export function helpText(catalogue: Catalogue, t: Translator = english): string {
  const lines = [
    t('help.intro'),
    t('help.slash', {
      command: t('commands.video.name'),
      prompt: t('commands.video.prompt.name'),
      image: t('commands.video.image.name'),
    }),
    t('help.mention'),
    t('help.menu', { menu: t('commands.makeVideo.name') }),
    t('help.options'),
  ];
  let length = lines.join('\n').length;
  for (const model of catalogue.models) {
    const line = modelLine(model, model.id === catalogue.defaultModel, t);
    if (length + line.length + 1 > MESSAGE_LIMIT) break;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

function modelLine(model: CatalogueModel, isDefault: boolean, t: Translator): string {
  return t('help.model', {
    label: isDefault ? t('help.defaultModel', { label: model.label }) : model.label,
    id: model.id,
    durations: model.durations.map((seconds) => t.number(seconds)).join(', '),
    aspectRatios: model.aspectRatios.join(', '),
    inputs: t(model.imageInput ? 'help.inputs.image' : 'help.inputs.text'),
  });
}

/**
 * A message that mentions the bot (or any message in a DM) with an image, or in reply to one,
 * starts a job; its reply shows the progress and ends with the video.
 */
export function createMentionTrigger(options: MentionTriggerOptions): MessageTrigger {
  return {
    name: 'mention',
    triggered(message) {
      if (message.author.bot || message.webhookId || message.system) return false;
      if (!message.inGuild()) return true;
      const botId = message.client.user.id;
      return message.mentions.users.has(botId);
    },
    async execute(message) {
      const locale = await localeOfMessage(message, options.serverLanguage);
      const t = translatorFor(locale);
      const reply = (content: string) => replyInChat(message, content, locale);
      if (!message.inGuild() && !options.allowDms) return reply(t(DMS_OFF));
      const images = await findImages(message);
      if (images.attachments.length === 0) return reply(helpText(options.catalogue, t));
      const image = images.attachments.find(isAcceptedImage);
      const imageProblem = checkImage(
        image ?? (images.attachments[0] as Attachment),
        options.maxImageBytes,
        t,
      );
      if (!image || imageProblem) return reply(imageProblem ?? helpText(options.catalogue, t));

      const inline = parseInlineOptions(stripMention(message), modelIds(options.catalogue), t);
      const problem = inline.problems[0] ?? checkPrompt(inline.prompt, options.maxPromptLength, t);
      if (problem) return reply(problem);

      const request: JobAsk = {
        requesterId: message.author.id,
        guildId: message.guildId,
        channelId: message.channelId,
        prompt: inline.prompt,
        imageUrl: image.url,
        model: inline.model,
        threadParentId: threadParentOf(message.channel),
        durationSeconds: inline.durationSeconds,
        aspectRatio: inline.aspectRatio,
        notice:
          images.count > 1
            ? t('job.multipleImages', { count: images.count, name: sanitiseFileName(image.name, t) })
            : undefined,
        locale,
        serverLocale: locale,
        source: 'mention',
      };
      await startFromMessage(options.intake, message, request);
    },
  };
}

/** The member's own images win; otherwise those of the message they replied to. */
async function findImages(message: Message): Promise<{ attachments: Attachment[]; count: number }> {
  let attachments = [...message.attachments.values()];
  if (attachments.length === 0 && message.reference?.messageId) {
    const replied = await message.fetchReference().catch(() => undefined);
    attachments = replied ? [...replied.attachments.values()] : [];
  }
  const count = attachments.filter(isAcceptedImage).length;
  return { attachments, count };
}

function stripMention(message: Message): string {
  const botId = message.client.user.id;
  return message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ');
}

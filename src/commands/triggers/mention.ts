import type { Attachment, Message } from 'discord.js';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobAsk } from '../../services/jobs/job.ts';
import type { ModelCapabilities } from '../../services/video-service/video-provider.ts';
import type { MessageTrigger } from '../command.ts';
import { parseInlineOptions } from '../input/inline-options.ts';
import { checkImage, checkPrompt, isAcceptedImage, sanitiseFileName } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { DMS_OFF, replyInChat } from '../replies.ts';
import { startFromMessage } from '../start-job.ts';

export interface MentionTriggerOptions {
  intake: JobIntake;
  capabilities: ModelCapabilities;
  models: string[];
  maxPromptLength: number;
  maxImageBytes: number;
  allowDms: boolean;
}

/** What a mention without an image gets: the three ways to ask, with the options this service offers. */
export function helpText(durations: readonly number[]): string {
  return [
    '👋 I turn a prompt and an image into a short video. Three ways to ask:',
    '• `/video prompt:<what should happen> image:<picture>`',
    '• Mention me in a message with an image (or in a reply to one): `@me a cat surfing --duration 10 --portrait`',
    '• Right-click a message with an image → **Apps** → **Make video**',
    `-# Options in a message: \`--duration ${durations.join('|')}\`, \`--portrait\`, \`--landscape\`, \`--model <name>\`.`,
  ].join('\n');
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
      if (!message.inGuild() && !options.allowDms) return replyInChat(message, DMS_OFF);
      const images = await findImages(message);
      if (images.attachments.length === 0)
        return replyInChat(message, helpText(options.capabilities.durations));
      const image = images.attachments.find(isAcceptedImage);
      const imageProblem = checkImage(image ?? (images.attachments[0] as Attachment), options.maxImageBytes);
      if (!image || imageProblem)
        return replyInChat(message, imageProblem ?? helpText(options.capabilities.durations));

      const inline = parseInlineOptions(
        stripMention(message),
        options.models,
        options.capabilities.durations,
      );
      const problem = inline.problems[0] ?? checkPrompt(inline.prompt, options.maxPromptLength);
      if (problem) return replyInChat(message, problem);

      const request: JobAsk = {
        requesterId: message.author.id,
        guildId: message.guildId,
        channelId: message.channelId,
        prompt: inline.prompt,
        imageUrl: image.url,
        model: inline.model,
        threadParentId: threadParentOf(message.channel),
        durationSeconds: inline.durationSeconds,
        orientation: inline.orientation,
        notice:
          images.count > 1
            ? `You sent ${images.count} images; I used the first one, ${sanitiseFileName(image.name)}.`
            : undefined,
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

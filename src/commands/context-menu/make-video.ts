import { randomBytes } from 'node:crypto';
import {
  ActionRowBuilder,
  ApplicationCommandType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import { VIDEO_DURATIONS } from '../../services/video-service/video-provider.ts';
import type { MessageMenuCommand, ModalHandler } from '../command.ts';
import { parseInlineOptions } from '../input/inline-options.ts';
import { checkImage, checkPrompt, isAcceptedImage } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { replyPrivately } from '../replies.ts';
import { startFromInteraction } from '../start-job.ts';

export const MAKE_VIDEO_MENU_NAME = 'Make video';
const MODAL_PREFIX = 'make-video';
/** The form's custom id can't hold an image URL, so the image waits here for the submit. */
const FORM_LIFETIME_MS = 15 * 60_000;

export interface MakeVideoOptions {
  intake: JobIntake;
  models: string[];
  maxPromptLength: number;
  maxImageBytes: number;
}

interface PendingForm {
  imageUrl: string;
  expiresAt: number;
}

export function makeVideoMenuDefinition() {
  return new ContextMenuCommandBuilder()
    .setName(MAKE_VIDEO_MENU_NAME)
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild)
    .toJSON();
}

/**
 * Right-click a message → Apps → "Make video": asks for the prompt and duration in a form, then
 * runs the job exactly like `/video`. Returns the menu command and the form's submit handler.
 */
export function createMakeVideo(options: MakeVideoOptions): { menu: MessageMenuCommand; form: ModalHandler } {
  const pending = new Map<string, PendingForm>();

  const menu: MessageMenuCommand = {
    kind: 'message-menu',
    definition: makeVideoMenuDefinition(),
    async execute(interaction) {
      const attachments = [...interaction.targetMessage.attachments.values()];
      const image = attachments.find(isAcceptedImage);
      const problem = image
        ? checkImage(image, options.maxImageBytes)
        : 'That message has no image. **Make video** needs a message with a PNG, JPEG or WebP image.';
      if (!image || problem) {
        await replyPrivately(interaction, problem ?? '');
        return;
      }
      forgetExpired(pending);
      const formId = randomBytes(8).toString('base64url');
      pending.set(formId, { imageUrl: image.url, expiresAt: Date.now() + FORM_LIFETIME_MS });
      await interaction.showModal(
        buildForm(formId, interaction.targetMessage.content, options.maxPromptLength),
      );
    },
  };

  const form: ModalHandler = {
    prefix: MODAL_PREFIX,
    async execute(interaction) {
      const formId = interaction.customId.slice(MODAL_PREFIX.length + 1);
      const entry = pending.get(formId);
      pending.delete(formId);
      if (!entry || entry.expiresAt < Date.now()) {
        await replyPrivately(
          interaction,
          'This form has expired. Please use **Make video** on the message again.',
        );
        return;
      }
      const prompt = interaction.fields.getTextInputValue('prompt');
      const durationField = interaction.fields.getTextInputValue('duration').trim();
      const inline = parseInlineOptions(
        durationField ? `${prompt} --duration ${durationField}` : prompt,
        options.models,
      );
      const problem = inline.problems[0] ?? checkPrompt(inline.prompt, options.maxPromptLength);
      if (problem) {
        await replyPrivately(interaction, problem);
        return;
      }
      await interaction.deferReply();
      await startFromInteraction(options.intake, interaction, {
        requesterId: interaction.user.id,
        guildId: interaction.guildId,
        channelId: interaction.channelId ?? '',
        prompt: inline.prompt,
        imageUrl: entry.imageUrl,
        model: inline.model,
        threadParentId: threadParentOf(interaction.channel),
        durationSeconds: inline.durationSeconds,
        orientation: inline.orientation,
        source: 'context-menu',
      });
    },
  };

  return { menu, form };
}

function buildForm(formId: string, messageText: string, maxPromptLength: number): ModalBuilder {
  const prompt = new TextInputBuilder()
    .setCustomId('prompt')
    .setLabel('What should happen in the video?')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(true)
    .setMaxLength(Math.min(4000, maxPromptLength));
  const prefill = messageText.trim().slice(0, Math.min(4000, maxPromptLength));
  if (prefill) prompt.setValue(prefill);
  const duration = new TextInputBuilder()
    .setCustomId('duration')
    .setLabel(`Duration in seconds (${VIDEO_DURATIONS.join(', ')})`)
    .setStyle(TextInputStyle.Short)
    .setRequired(false)
    .setMaxLength(2)
    .setPlaceholder('10');
  return new ModalBuilder()
    .setCustomId(`${MODAL_PREFIX}:${formId}`)
    .setTitle('Make a video from this image')
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(prompt),
      new ActionRowBuilder<TextInputBuilder>().addComponents(duration),
    );
}

function forgetExpired(pending: Map<string, PendingForm>): void {
  const now = Date.now();
  for (const [formId, entry] of pending) if (entry.expiresAt < now) pending.delete(formId);
}

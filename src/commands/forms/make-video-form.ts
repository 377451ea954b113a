import {
  ActionRowBuilder,
  ModalBuilder,
  type ModalSubmitInteraction,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import type { Catalogue } from '../../services/catalogue/catalogue.ts';
import { modelIds } from '../../services/catalogue/catalogue-offer.ts';
import { english, type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import { customIdArgument, type ModalHandler } from '../command.ts';
import { parseInlineOptions } from '../input/inline-options.ts';
import { checkPrompt } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { startFromInteraction } from '../start-job.ts';
import type { PendingForms } from './pending-forms.ts';

const MODAL_PREFIX = 'make-video';

export interface MakeVideoFormOptions {
  intake: JobIntake;
  catalogue: Catalogue;
  maxPromptLength: number;
}

/** The prompt and options a member typed into the form, as inline options read them. */
function readForm(interaction: ModalSubmitInteraction, options: MakeVideoFormOptions) {
  const t = translatorFor(interaction.locale);
  const prompt = interaction.fields.getTextInputValue('prompt');
  const durationField = interaction.fields.getTextInputValue('duration').trim();
  return parseInlineOptions(
    durationField ? `${prompt} --duration ${durationField}` : prompt,
    modelIds(options.catalogue),
    t,
  );
}

/** The "Make video" form's submit: the job runs exactly like `/video`, with the message's image. */
export function createMakeVideoForm(options: MakeVideoFormOptions, pending: PendingForms): ModalHandler {
  return {
    prefix: MODAL_PREFIX,
    preconditions: [
      {
        name: 'form-still-open',
        check: async (interaction) => {
          if (await pending.isOpen(customIdArgument(interaction.customId))) return undefined;
          const t = translatorFor(interaction.locale);
          return t('refusal.formExpired', { menu: t('commands.makeVideo.name') });
        },
      },
      {
        name: 'valid-request',
        check: (interaction) => {
          const inline = readForm(interaction, options);
          const t = translatorFor(interaction.locale);
          return inline.problems[0] ?? checkPrompt(inline.prompt, options.maxPromptLength, t);
        },
      },
    ],
    defer: 'public',
    async execute(interaction) {
      const imageUrl = await pending.take(customIdArgument(interaction.customId));
      const inline = readForm(interaction, options);
      await startFromInteraction(options.intake, interaction, {
        requesterId: interaction.user.id,
        guildId: interaction.guildId,
        channelId: interaction.channelId ?? '',
        prompt: inline.prompt,
        imageUrl,
        model: inline.model,
        threadParentId: threadParentOf(interaction.channel),
        durationSeconds: inline.durationSeconds,
        aspectRatio: inline.aspectRatio,
        source: 'context-menu',
      });
    },
  };
}

export function makeVideoForm(
  formId: string,
  messageText: string,
  maxPromptLength: number,
  durations: readonly number[],
  t: Translator = english,
): ModalBuilder {
  const prompt = new TextInputBuilder()
    .setCustomId('prompt')
    .setLabel(t('form.makeVideoPrompt'))
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(true)
    .setMaxLength(Math.min(4000, maxPromptLength));
  const prefill = messageText.trim().slice(0, Math.min(4000, maxPromptLength));
  if (prefill) prompt.setValue(prefill);
  const duration = new TextInputBuilder()
    .setCustomId('duration')
    .setLabel(durationLabel(durations, t))
    .setStyle(TextInputStyle.Short)
    .setRequired(false)
    .setMaxLength(2)
    .setPlaceholder('10');
  return new ModalBuilder()
    .setCustomId(`${MODAL_PREFIX}:${formId}`)
    .setTitle(t('form.makeVideoTitle'))
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(prompt),
      new ActionRowBuilder<TextInputBuilder>().addComponents(duration),
    );
}

/** Discord's limit on a text input's label. */
const LABEL_LIMIT = 45;

/** The lengths the catalogue offers; as a range when a list of them would not fit the label. */
function durationLabel(durations: readonly number[], t: Translator): string {
  const listed = t('form.makeVideoDuration', { durations: durations.map((d) => t.number(d)).join(', ') });
  if (listed.length <= LABEL_LIMIT || durations.length < 2) return listed.slice(0, LABEL_LIMIT);
  const range = `${t.number(Math.min(...durations))}–${t.number(Math.max(...durations))}`;
  return t('form.makeVideoDuration', { durations: range }).slice(0, LABEL_LIMIT);
}

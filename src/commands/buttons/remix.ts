import { ActionRowBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import { translatorFor } from '../../services/i18n/translator.ts';
import type { JobRecords } from '../../services/jobs/job-records.ts';
import { JOB_BUTTON } from '../../services/shared/custom-ids.ts';
import { type ButtonHandler, customIdArgument } from '../command.ts';
import { REMIX_FORM_PREFIX, remixRequesterOrServerManager } from '../forms/remix-form.ts';

/**
 * Remix on a delivered video of a service that can change one: asks in a form what to change;
 * the form's submit runs the new job (see forms/remix-form.ts).
 */
export function createRemixButton(options: { records: JobRecords; maxPromptLength: number }): ButtonHandler {
  return {
    prefix: JOB_BUTTON.remix,
    preconditions: [remixRequesterOrServerManager(options.records)],
    async execute(interaction) {
      const t = translatorFor(interaction.locale);
      const jobId = customIdArgument(interaction.customId);
      const change = new TextInputBuilder()
        .setCustomId('prompt')
        .setLabel(t('form.remixPrompt'))
        .setStyle(TextInputStyle.Paragraph)
        .setRequired(true)
        .setMaxLength(Math.min(4000, options.maxPromptLength));
      await interaction.showModal(
        new ModalBuilder()
          .setCustomId(`${REMIX_FORM_PREFIX}:${jobId}`)
          .setTitle(t('form.remixTitle'))
          .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(change)),
      );
    },
  };
}

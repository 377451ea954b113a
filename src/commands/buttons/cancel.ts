import { MessageFlags } from 'discord.js';
import { translatorFor } from '../../services/i18n/translator.ts';
import type { JobDispatch } from '../../services/jobs/job-ports.ts';
import { JOB_BUTTON } from '../../services/shared/custom-ids.ts';
import { type ButtonHandler, customIdArgument } from '../command.ts';
import { requesterOrServerManager } from '../preconditions.ts';

/** The Cancel button on a job's progress message: the requester or a server manager may use it. */
export function createCancelButton(options: { jobs: JobDispatch }): ButtonHandler {
  return {
    prefix: JOB_BUTTON.cancel,
    preconditions: [
      requesterOrServerManager((jobId) => options.jobs.requesterIdOf(jobId), {
        unknown: 'refusal.cancelUnknown',
        notYours: 'refusal.cancelNotYours',
      }),
    ],
    async execute(interaction) {
      await interaction.deferUpdate();
      const result = await options.jobs.cancel(customIdArgument(interaction.customId), interaction.user.id);
      if (result !== 'cancelled') {
        await interaction.followUp({
          content: translatorFor(interaction.locale)('refusal.cancelTooLate'),
          flags: MessageFlags.Ephemeral,
        });
      }
    },
  };
}

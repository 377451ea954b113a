import { MessageFlags } from 'discord.js';
import type { JobRunner } from '../../services/jobs/job-runner.ts';
import { JOB_BUTTON } from '../../services/progress-message/job-message.ts';
import { type ButtonHandler, customIdArgument } from '../command.ts';
import { requesterOrServerManager } from '../preconditions.ts';

/** The Cancel button on a job's progress message: the requester or a server manager may use it. */
export function createCancelButton(options: { runner: JobRunner }): ButtonHandler {
  return {
    prefix: JOB_BUTTON.cancel,
    preconditions: [
      requesterOrServerManager((jobId) => options.runner.requesterOf(jobId), {
        unknown: 'This video has already finished, so there is nothing to cancel.',
        notYours:
          'Only the member who asked for this video, or someone with **Manage Server**, can cancel it.',
      }),
    ],
    async execute(interaction) {
      await interaction.deferUpdate();
      if (
        options.runner.cancel(customIdArgument(interaction.customId), interaction.user.id) !== 'cancelled'
      ) {
        await interaction.followUp({
          content: 'Too late to cancel: the video is already on its way.',
          flags: MessageFlags.Ephemeral,
        });
      }
    },
  };
}

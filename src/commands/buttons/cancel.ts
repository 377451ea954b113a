import { MessageFlags } from 'discord.js';
import type { JobRunner } from '../../services/jobs/job-runner.ts';
import { JOB_BUTTON } from '../../services/progress-message/job-message.ts';
import type { ButtonHandler } from '../command.ts';
import { canManageServer } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';

/** The Cancel button on a job's progress message: the requester or a server manager may use it. */
export function createCancelButton(options: { runner: JobRunner }): ButtonHandler {
  return {
    prefix: JOB_BUTTON.cancel,
    async execute(interaction) {
      const jobId = interaction.customId.slice(JOB_BUTTON.cancel.length + 1);
      const requesterId = options.runner.requesterOf(jobId);
      if (!requesterId) {
        await replyPrivately(interaction, 'This video has already finished, so there is nothing to cancel.');
        return;
      }
      if (requesterId !== interaction.user.id && !canManageServer(interaction)) {
        await replyPrivately(
          interaction,
          'Only the member who asked for this video, or someone with **Manage Server**, can cancel it.',
        );
        return;
      }
      await interaction.deferUpdate();
      if (options.runner.cancel(jobId, interaction.user.id) !== 'cancelled') {
        await interaction.followUp({
          content: 'Too late to cancel: the video is already on its way.',
          flags: MessageFlags.Ephemeral,
        });
      }
    },
  };
}

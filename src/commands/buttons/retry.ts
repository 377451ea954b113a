import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobRecords } from '../../services/jobs/job-records.ts';
import { JOB_BUTTON } from '../../services/progress-message/job-message.ts';
import type { ButtonHandler } from '../command.ts';
import { canManageServer } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';
import { startFromInteraction } from '../start-job.ts';

const DMS_OFF = "I don't make videos in direct messages here. Please use `/video` in a server channel.";

/**
 * Retry (after a failure or restart) and Regenerate (after delivery): the same prompt, image and
 * options as a new job in a new reply, through quotas like any other request.
 */
export function createRetryButton(options: {
  records: JobRecords;
  intake: JobIntake;
  allowDms: boolean;
}): ButtonHandler {
  return {
    prefix: JOB_BUTTON.retry,
    async execute(interaction) {
      const jobId = interaction.customId.slice(JOB_BUTTON.retry.length + 1);
      const record = await options.records.get(jobId);
      if (!record) {
        await replyPrivately(
          interaction,
          'I no longer have the details of that video. Please start a new one with `/video`.',
        );
        return;
      }
      if (record.request.requesterId !== interaction.user.id && !canManageServer(interaction)) {
        await replyPrivately(
          interaction,
          'Only the member who asked for this video, or someone with **Manage Server**, can run it again.',
        );
        return;
      }
      // A server's job is admitted under that server's quota, wherever the button was pressed.
      if (record.request.guildId === null && !options.allowDms) {
        await replyPrivately(interaction, DMS_OFF);
        return;
      }
      await interaction.deferReply();
      await startFromInteraction(options.intake, interaction, {
        ...record.request,
        requesterId: interaction.user.id,
        channelId: interaction.channelId,
        notice: undefined,
        source: 'retry',
      });
    },
  };
}

import type { ButtonInteraction } from 'discord.js';
import { translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobRecords } from '../../services/jobs/job-records.ts';
import { JOB_BUTTON } from '../../services/shared/custom-ids.ts';
import { type ButtonHandler, customIdArgument } from '../command.ts';
import { requesterOrServerManager } from '../preconditions.ts';
import { DMS_OFF } from '../replies.ts';
import { startFromInteraction } from '../start-job.ts';

/**
 * Retry (after a failure or restart) and Regenerate (after delivery): the same prompt, image and
 * options as a new job in a new reply, through quotas like any other request.
 */
export function createRetryButton(options: {
  records: JobRecords;
  intake: JobIntake;
  allowDms: boolean;
}): ButtonHandler {
  const recordOf = (interaction: ButtonInteraction) =>
    options.records.get(customIdArgument(interaction.customId));
  return {
    prefix: JOB_BUTTON.retry,
    preconditions: [
      requesterOrServerManager(async (jobId) => (await options.records.get(jobId))?.request.requesterId, {
        unknown: 'refusal.retryUnknown',
        notYours: 'refusal.retryNotYours',
      }),
      {
        // A server's job is admitted under that server's quota, wherever the button was pressed; a
        // member's own-install job in a server is theirs (no server), but not a DM.
        name: 'direct-messages-allowed',
        check: async (interaction) =>
          interaction.guildId === null &&
          (await recordOf(interaction))?.request.guildId === null &&
          !options.allowDms
            ? translatorFor(interaction.locale)(DMS_OFF)
            : undefined,
      },
    ],
    defer: 'public',
    async execute(interaction) {
      const record = await recordOf(interaction);
      if (!record) throw new Error('the job record went away between the checks and the retry');
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

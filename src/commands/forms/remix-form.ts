import { translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobRecords } from '../../services/jobs/job-records.ts';
import { customIdArgument, type ModalHandler } from '../command.ts';
import { checkPrompt } from '../input/request-checks.ts';
import { requesterOrServerManager } from '../preconditions.ts';
import { startFromInteraction } from '../start-job.ts';

export const REMIX_FORM_PREFIX = 'remix-form';

/** Keys of the locale files. */
export const REMIX_REFUSALS = {
  unknown: 'refusal.remixUnknown',
  notYours: 'refusal.remixNotYours',
};

/**
 * Who may remix a job's video, on the button and again on the form's submit: its requester or a
 * server manager, once the service has a video to change.
 */
export function remixRequesterOrServerManager(records: JobRecords) {
  return requesterOrServerManager(async (jobId) => {
    const record = await records.get(jobId);
    return record?.serviceJobId ? record.request.requesterId : undefined;
  }, REMIX_REFUSALS);
}

/** The Remix form's submit: a new job that changes the delivered video, through quotas like any other. */
export function createRemixForm(options: {
  records: JobRecords;
  intake: JobIntake;
  maxPromptLength: number;
}): ModalHandler {
  const promptOf = (interaction: Parameters<ModalHandler['execute']>[0]) =>
    interaction.fields.getTextInputValue('prompt').trim();
  return {
    prefix: REMIX_FORM_PREFIX,
    preconditions: [
      {
        name: 'valid-request',
        check: (interaction) =>
          checkPrompt(promptOf(interaction), options.maxPromptLength, translatorFor(interaction.locale)),
      },
      remixRequesterOrServerManager(options.records),
    ],
    defer: 'public',
    async execute(interaction) {
      const record = await options.records.get(customIdArgument(interaction.customId));
      if (!record?.serviceJobId)
        throw new Error('the remixed job went away between the checks and the remix');
      await startFromInteraction(options.intake, interaction, {
        ...record.request,
        requesterId: interaction.user.id,
        channelId: interaction.channelId ?? record.request.channelId,
        prompt: promptOf(interaction),
        imageUrl: undefined,
        remixOf: record.serviceJobId,
        notice: undefined,
        source: 'remix',
      });
    },
  };
}

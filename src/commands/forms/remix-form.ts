import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobRecords } from '../../services/jobs/job-records.ts';
import { customIdArgument, type ModalHandler } from '../command.ts';
import { checkPrompt } from '../input/request-checks.ts';
import { canManageServer } from '../preconditions.ts';
import { startFromInteraction } from '../start-job.ts';

export const REMIX_FORM_PREFIX = 'remix-form';

export const REMIX_REFUSALS = {
  unknown:
    'I no longer have that video at the video service, so it cannot be remixed. Please start a new one.',
  notYours: 'Only the member who asked for this video, or someone with **Manage Server**, can remix it.',
};

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
        check: (interaction) => checkPrompt(promptOf(interaction), options.maxPromptLength),
      },
      {
        name: 'remixable-video',
        check: async (interaction) => {
          const record = await options.records.get(customIdArgument(interaction.customId));
          if (!record?.serviceJobId) return REMIX_REFUSALS.unknown;
          const mine = record.request.requesterId === interaction.user.id;
          return mine || canManageServer(interaction) ? undefined : REMIX_REFUSALS.notYours;
        },
      },
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

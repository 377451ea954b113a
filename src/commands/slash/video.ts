import { type Attachment, type ChatInputCommandInteraction, SlashCommandBuilder } from 'discord.js';
import { aspectRatioOf } from '../../services/catalogue/aspect-ratio.ts';
import type { AspectRatio, Catalogue } from '../../services/catalogue/catalogue.ts';
import {
  MAX_CHOICES,
  modelChoices,
  offeredAspectRatios,
  offeredDurations,
} from '../../services/catalogue/catalogue-offer.ts';
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobAsk } from '../../services/jobs/job.ts';
import type { SlashCommand } from '../command.ts';
import { checkImage, checkPrompt } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { choice, describe } from '../localized.ts';
import { directMessagesAllowed } from '../preconditions.ts';
import { startFromInteraction } from '../start-job.ts';

export interface VideoDefinitionOptions {
  /** The models members may pick, with what each can do. */
  catalogue: Catalogue;
  maxPromptLength: number;
}

export interface VideoCommandOptions extends VideoDefinitionOptions {
  intake: JobIntake;
  allowDms: boolean;
  maxImageBytes: number;
}

/** The word each frame's choice is named by in the locale files. */
const ASPECT_RATIO_CHOICE = {
  '16:9': 'landscape',
  '9:16': 'portrait',
  '1:1': 'square',
} as const satisfies Record<AspectRatio, string>;

/**
 * `/video prompt:<text> [image] [duration] [aspect_ratio] [model]`: the main front door. Its
 * choices list what any model offers; what the chosen model cannot do is settled at admission.
 */
export function createVideoCommand(options: VideoCommandOptions): SlashCommand {
  return {
    kind: 'slash',
    definition: videoCommandDefinition(options),
    preconditions: [
      directMessagesAllowed(options.allowDms),
      {
        name: 'valid-request',
        check: (interaction) => {
          const t = translatorFor(interaction.locale);
          return (
            checkPrompt(readRequest(interaction, options).prompt, options.maxPromptLength, t) ??
            checkAttachment(interaction, options, t)
          );
        },
      },
    ],
    defer: 'public',
    async execute(interaction) {
      await startFromInteraction(options.intake, interaction, readRequest(interaction, options));
    },
  };
}

/** Where /video is offered is settled with the other commands' in `definitions.ts`. */
export function videoCommandDefinition(options: VideoDefinitionOptions) {
  const builder = describe(new SlashCommandBuilder(), 'commands.video')
    .addStringOption((option) =>
      describe(option, 'commands.video.prompt')
        .setRequired(true)
        .setMaxLength(Math.min(6000, options.maxPromptLength)),
    )
    .addAttachmentOption((option) => describe(option, 'commands.video.image'))
    .addIntegerOption((option) =>
      describe(option, 'commands.video.duration').addChoices(
        ...offeredDurations(options.catalogue)
          .slice(0, MAX_CHOICES)
          .map((seconds) => choice('commands.video.duration.choice', seconds, { seconds })),
      ),
    )
    .addStringOption((option) =>
      describe(option, 'commands.video.aspectRatio').addChoices(
        ...offeredAspectRatios(options.catalogue).map((ratio) =>
          choice(`commands.video.aspectRatio.${ASPECT_RATIO_CHOICE[ratio]}`, ratio),
        ),
      ),
    );
  if (options.catalogue.models.length > 1) {
    builder.addStringOption((option) =>
      describe(option, 'commands.video.model').addChoices(...modelChoices(options.catalogue)),
    );
  }
  const definition = builder.toJSON();
  // Discord's picker offers images only where it supports `file_types` (the bytes are still checked).
  for (const option of definition.options ?? []) {
    if (option.name === 'image') Object.assign(option, { file_types: ['image'] });
  }
  return definition;
}

function readRequest(interaction: ChatInputCommandInteraction, options: VideoCommandOptions): JobAsk {
  const image: Attachment | null = interaction.options.getAttachment('image');
  const model = interaction.options.getString('model');
  const offered = options.catalogue.models.some((each) => each.id === model);
  return {
    requesterId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    prompt: interaction.options.getString('prompt', true).trim(),
    imageUrl: image?.url,
    model: model && offered ? model : undefined,
    threadParentId: threadParentOf(interaction.channel),
    durationSeconds: interaction.options.getInteger('duration') ?? undefined,
    // `orientation` (landscape, portrait): what a registration made before aspect ratios still sends.
    aspectRatio: aspectRatioOf(
      interaction.options.getString('aspect_ratio') ?? interaction.options.getString('orientation'),
    ),
    source: 'slash',
  };
}

function checkAttachment(
  interaction: ChatInputCommandInteraction,
  options: VideoCommandOptions,
  t: Translator,
): string | undefined {
  const image = interaction.options.getAttachment('image');
  if (!image) return undefined;
  return checkImage(image, options.maxImageBytes, t);
}

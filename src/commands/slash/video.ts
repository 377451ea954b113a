import {
  type Attachment,
  type ChatInputCommandInteraction,
  InteractionContextType,
  SlashCommandBuilder,
} from 'discord.js';
import { type Translator, translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobAsk } from '../../services/jobs/job.ts';
import type { ModelCapabilities, Orientation } from '../../services/video-service/video-provider.ts';
import type { SlashCommand } from '../command.ts';
import { checkImage, checkPrompt } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
import { choice, describe } from '../localized.ts';
import { startFromInteraction } from '../start-job.ts';

export interface VideoDefinitionOptions {
  models: string[];
  /** What the default model offers: the duration and orientation choices. */
  capabilities: ModelCapabilities;
  maxPromptLength: number;
  allowDms: boolean;
}

export interface VideoCommandOptions extends VideoDefinitionOptions {
  intake: JobIntake;
  maxImageBytes: number;
}

/** `/video prompt:<text> [image] [duration] [orientation] [model]`: the main front door. */
export function createVideoCommand(options: VideoCommandOptions): SlashCommand {
  return {
    kind: 'slash',
    definition: videoCommandDefinition(options),
    preconditions: [
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

export function videoCommandDefinition(options: VideoDefinitionOptions) {
  const contexts = [InteractionContextType.Guild];
  if (options.allowDms) contexts.push(InteractionContextType.BotDM);
  const builder = describe(new SlashCommandBuilder(), 'commands.video')
    .setContexts(contexts)
    .addStringOption((option) =>
      describe(option, 'commands.video.prompt')
        .setRequired(true)
        .setMaxLength(Math.min(6000, options.maxPromptLength)),
    )
    .addAttachmentOption((option) => describe(option, 'commands.video.image'))
    .addIntegerOption((option) =>
      describe(option, 'commands.video.duration').addChoices(
        ...options.capabilities.durations.map((seconds) =>
          choice('commands.video.duration.choice', seconds, { seconds }),
        ),
      ),
    )
    .addStringOption((option) =>
      describe(option, 'commands.video.orientation').addChoices(
        choice('commands.video.orientation.landscape', 'landscape'),
        choice('commands.video.orientation.portrait', 'portrait'),
      ),
    );
  if (options.models.length > 1) {
    builder.addStringOption((option) =>
      describe(option, 'commands.video.model').addChoices(
        ...options.models.slice(0, 25).map((model) => ({ name: model, value: model })),
      ),
    );
  }
  return builder.toJSON();
}

function readRequest(interaction: ChatInputCommandInteraction, options: VideoCommandOptions): JobAsk {
  const image: Attachment | null = interaction.options.getAttachment('image');
  const model = interaction.options.getString('model');
  return {
    requesterId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    prompt: interaction.options.getString('prompt', true).trim(),
    imageUrl: image?.url,
    model: model && options.models.includes(model) ? model : undefined,
    threadParentId: threadParentOf(interaction.channel),
    durationSeconds: interaction.options.getInteger('duration') ?? undefined,
    orientation: (interaction.options.getString('orientation') as Orientation | null) ?? undefined,
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

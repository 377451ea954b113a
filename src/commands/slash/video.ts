import {
  type Attachment,
  type ChatInputCommandInteraction,
  InteractionContextType,
  SlashCommandBuilder,
} from 'discord.js';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { JobAsk } from '../../services/jobs/job.ts';
import type { ModelCapabilities, Orientation } from '../../services/video-service/video-provider.ts';
import type { SlashCommand } from '../command.ts';
import { checkImage, checkPrompt } from '../input/request-checks.ts';
import { threadParentOf } from '../input/requester.ts';
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
        check: (interaction) =>
          checkPrompt(readRequest(interaction, options).prompt, options.maxPromptLength) ??
          checkAttachment(interaction, options),
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
  const builder = new SlashCommandBuilder()
    .setName('video')
    .setDescription('Make a short video from a prompt and, if you like, a starting image')
    .setContexts(contexts)
    .addStringOption((option) =>
      option
        .setName('prompt')
        .setDescription('What should happen in the video')
        .setRequired(true)
        .setMaxLength(Math.min(6000, options.maxPromptLength)),
    )
    .addAttachmentOption((option) =>
      option.setName('image').setDescription('Starting image (PNG, JPEG or WebP); leave out for text only'),
    )
    .addIntegerOption((option) =>
      option
        .setName('duration')
        .setDescription('Length in seconds')
        .addChoices(
          ...options.capabilities.durations.map((seconds) => ({
            name: `${seconds} seconds`,
            value: seconds,
          })),
        ),
    )
    .addStringOption((option) =>
      option
        .setName('orientation')
        .setDescription('Landscape (16:9) or portrait (9:16)')
        .addChoices(
          { name: 'Landscape 16:9', value: 'landscape' },
          { name: 'Portrait 9:16', value: 'portrait' },
        ),
    );
  if (options.models.length > 1) {
    builder.addStringOption((option) =>
      option
        .setName('model')
        .setDescription('Which video model to use')
        .addChoices(...options.models.slice(0, 25).map((model) => ({ name: model, value: model }))),
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
): string | undefined {
  const image = interaction.options.getAttachment('image');
  if (!image) return undefined;
  return checkImage(image, options.maxImageBytes);
}

import { ApplicationCommandType, ContextMenuCommandBuilder } from 'discord.js';
import { offeredDurations } from '../../services/catalogue/catalogue-offer.ts';
import { english, translatorFor } from '../../services/i18n/translator.ts';
import type { JobIntake } from '../../services/intake/job-intake.ts';
import type { Collection } from '../../services/store/store.ts';
import type { MessageMenuCommand, ModalHandler } from '../command.ts';
import { createMakeVideoForm, type MakeVideoFormOptions, makeVideoForm } from '../forms/make-video-form.ts';
import { type PendingForm, PendingForms } from '../forms/pending-forms.ts';
import { checkImage, isAcceptedImage } from '../input/request-checks.ts';
import { localizations } from '../localized.ts';
import { directMessagesAllowed } from '../preconditions.ts';
import { replyPrivately } from '../replies.ts';

export const MAKE_VIDEO_MENU_NAME = english('commands.makeVideo.name');

export interface MakeVideoOptions extends MakeVideoFormOptions {
  intake: JobIntake;
  maxPromptLength: number;
  maxImageBytes: number;
  allowDms: boolean;
  /** Where open forms keep their image until submitted (the store: any front door may get the submit). */
  forms: Collection<PendingForm>;
}

export function makeVideoMenuDefinition() {
  return new ContextMenuCommandBuilder()
    .setName(MAKE_VIDEO_MENU_NAME)
    .setNameLocalizations(localizations('commands.makeVideo.name'))
    .setType(ApplicationCommandType.Message)
    .toJSON();
}

/**
 * Right-click a message → Apps → "Make video": asks for the prompt and duration in a form, then
 * runs the job exactly like `/video`. Returns the menu command and the form's submit handler.
 */
export function createMakeVideo(options: MakeVideoOptions): { menu: MessageMenuCommand; form: ModalHandler } {
  const pending = new PendingForms(options.forms);

  const menu: MessageMenuCommand = {
    kind: 'message-menu',
    definition: makeVideoMenuDefinition(),
    preconditions: [directMessagesAllowed(options.allowDms)],
    async execute(interaction) {
      const t = translatorFor(interaction.locale);
      const attachments = [...interaction.targetMessage.attachments.values()];
      const image = attachments.find(isAcceptedImage);
      const problem = image
        ? checkImage(image, options.maxImageBytes, t)
        : t('refusal.noImage', { menu: t('commands.makeVideo.name') });
      if (!image || problem) {
        await replyPrivately(interaction, problem ?? '');
        return;
      }
      const formId = await pending.open(image.url);
      await interaction.showModal(
        makeVideoForm(
          formId,
          interaction.targetMessage.content,
          options.maxPromptLength,
          offeredDurations(options.catalogue),
          t,
        ),
      );
    },
  };

  return { menu, form: createMakeVideoForm(options, pending) };
}

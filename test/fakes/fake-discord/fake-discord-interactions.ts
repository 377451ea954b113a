import { randomBytes } from 'node:crypto';
import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  type APIAttachment,
  type APIBaseInteraction,
  type APIChatInputApplicationCommandInteraction,
  type APIInteractionDataResolved,
  type APIMessage,
  type APIMessageApplicationCommandInteraction,
  type APIMessageComponentButtonInteraction,
  type APIMessageInteractionMetadata,
  type APIModalSubmission,
  type APIModalSubmitInteraction,
  type APIUser,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  Locale,
} from 'discord-api-types/v10';
import { findButton } from './fake-discord-messages.ts';
import {
  type AttachmentInput,
  DEFAULT_ATTACHMENT_SIZE_LIMIT,
  type FakeMember,
  interactionMemberPayload,
  type PermissionsInput,
  permissionString,
} from './fake-discord-payloads.ts';
import type {
  FakeChannel,
  FakeDiscordState,
  FakeInteraction,
  InteractionPayload,
  MessageRecord,
} from './fake-discord-state.ts';
import { snowflake } from './snowflake.ts';

/**
 * Builders for INTERACTION_CREATE payloads, typed with discord-api-types so that a field which
 * becomes required fails at compile time. Each builder stores a live `FakeInteraction` record
 * (acknowledged? @original? modal shown?) and dispatches it unless `dispatch: false`.
 */

export interface InteractionOptions {
  /** Who acts (default: `discord.defaultMember`). In DMs only `member.user` is used. */
  member?: FakeMember;
  /**
   * false: the interaction comes from the bot's DM with the user (no member, `memberPermissions`
   * null); with a `channel` too (`discord.privateChannel()`), from a DM between members (context 2).
   */
  guild?: boolean;
  /** A channel object or id (default: `discord.channel`, or the message's channel for clicks). */
  channel?: FakeChannel | string;
  /** Creation time (ms or Date) encoded in the snowflake: set it 16 min back to get an expired token. */
  createdAt?: number | Date;
  /** `attachment_size_limit` in bytes (default 10 MiB). */
  attachmentSizeLimit?: number;
  /** `app_permissions` (default: the bot's permissions in the channel). */
  appPermissions?: PermissionsInput;
  locale?: Locale;
  /**
   * Authorised by the member's own install only (`authorizing_integration_owners` {"1": user}):
   * the default in a server the bot is not in (`discord.guildWithoutBot()`).
   */
  ownInstall?: boolean;
  /** false: only build and store it; send it later with `discord.dispatchInteraction(ix)`. */
  dispatch?: boolean;
}

export interface SlashAttachment extends AttachmentInput {
  /** The ATTACHMENT option (type 11) this file fills; default `image`. */
  option?: string;
}

export interface SlashCommandOptions extends InteractionOptions {
  name: string;
  /** Raw API options, e.g. `[{ name: 'prompt', type: 3, value: 'a cat' }]`. */
  options?: APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>[];
  subcommand?: string;
  subcommandGroup?: string;
  /** Files for ATTACHMENT options; stored on the fake CDN and resolved into `data.resolved.attachments`. */
  attachments?: SlashAttachment[];
}

export interface AutocompleteOptions extends InteractionOptions {
  name: string;
  /** Raw options with `focused: true` on the one being typed; values are strings while typing. */
  options: APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommandAutocomplete>[];
  subcommand?: string;
}

export type MessageRef = APIMessage | MessageRecord | string;

export interface ButtonOptions extends InteractionOptions {
  message: MessageRef;
  customId: string;
  /** Click even if the message has no enabled button with that custom id (normally a test error). */
  force?: boolean;
}

export interface MessageContextMenuOptions extends InteractionOptions {
  name: string;
  targetMessage: MessageRef;
}

export interface SubmitModalOptions extends InteractionOptions {
  customId: string;
  /** Values by text input custom id (arrays for select components inside labels). */
  fields: Record<string, string | string[]>;
  /** The interaction that showed the modal (default: the latest one whose modal has this custom id). */
  from?: FakeInteraction;
  /** The message for a modal shown from a component (default: that component interaction's message). */
  message?: MessageRef;
  /** Submit even if the values break the modal's required/min/max rules. */
  force?: boolean;
}

type CommonFields = Required<
  Pick<
    APIBaseInteraction<InteractionType, never>,
    | 'id'
    | 'application_id'
    | 'token'
    | 'version'
    | 'app_permissions'
    | 'locale'
    | 'entitlements'
    | 'authorizing_integration_owners'
    | 'attachment_size_limit'
    | 'channel'
    | 'channel_id'
    | 'context'
  >
> &
  Pick<APIBaseInteraction<InteractionType, never>, 'guild' | 'guild_id' | 'guild_locale' | 'member' | 'user'>;

interface Prepared {
  common: CommonFields;
  createdAt: number;
  user: APIUser;
  member: FakeMember | undefined;
  channelId: string;
  guildId: string | undefined;
}

export interface InteractionHost {
  state: FakeDiscordState;
  defaultMember: FakeMember;
  defaultChannel: FakeChannel;
  /** Sends INTERACTION_CREATE (throws when no client could receive it). */
  dispatch(ix: FakeInteraction): void;
}

export class InteractionFactory {
  constructor(private readonly host: InteractionHost) {}

  slashCommand(options: SlashCommandOptions): FakeInteraction<APIChatInputApplicationCommandInteraction> {
    const prepared = this.prepare(options);
    const resolvedAttachments: Record<string, APIAttachment> = {};
    const options_: APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>[] = [
      ...(options.options ?? []),
    ];
    for (const file of options.attachments ?? []) {
      const attachment = this.host.state.storeFile({
        channelId: prepared.channelId,
        filename: file.filename,
        contentType: file.contentType,
        bytes: file.bytes === undefined ? undefined : Buffer.from(file.bytes),
        size: file.size,
        description: file.description,
        ephemeral: true,
      });
      resolvedAttachments[attachment.id] = attachment;
      options_.push({
        name: file.option ?? 'image',
        type: ApplicationCommandOptionType.Attachment,
        value: attachment.id,
      });
    }
    const payload: APIChatInputApplicationCommandInteraction = {
      ...prepared.common,
      type: InteractionType.ApplicationCommand,
      data: {
        id: this.commandId(options.name, ApplicationCommandType.ChatInput),
        name: options.name,
        type: ApplicationCommandType.ChatInput,
        ...(prepared.guildId ? { guild_id: prepared.guildId } : {}),
        options: nestOptions(options_, options.subcommand, options.subcommandGroup),
        resolved: {
          ...this.resolveMentionables(options_, prepared.guildId),
          attachments: resolvedAttachments,
        },
      },
    };
    return this.finish(options, prepared, payload, this.commandMetadata(prepared));
  }

  /** Discord resolves user, role and channel options into objects; discord.js reads them from there. */
  private resolveMentionables(
    options: APIApplicationCommandInteractionDataBasicOption<InteractionType.ApplicationCommand>[],
    guildId: string | undefined,
  ): APIInteractionDataResolved {
    const resolved: Required<Pick<APIInteractionDataResolved, 'users' | 'members' | 'roles' | 'channels'>> = {
      users: {},
      members: {},
      roles: {},
      channels: {},
    };
    const { state } = this.host;
    for (const option of options) {
      const id = String(option.value);
      if (option.type === ApplicationCommandOptionType.User) {
        const member = state.memberOf(guildId, id);
        const user = member?.user ?? state.users.get(id);
        if (user) resolved.users[id] = user;
        if (member) {
          const { user: _user, ...rest } = interactionMemberPayload(member);
          resolved.members[id] = rest;
        }
      } else if (option.type === ApplicationCommandOptionType.Role) {
        const role = guildId
          ? state.guilds.get(guildId)?.roles.find((candidate) => candidate.id === id)
          : undefined;
        if (role) resolved.roles[id] = role;
      } else if (option.type === ApplicationCommandOptionType.Channel) {
        const channel = state.channels.get(id);
        if (channel) {
          const name = 'name' in channel && channel.name ? channel.name : id;
          resolved.channels[id] = { id, type: channel.type, name, permissions: '0' } as never;
        }
      }
    }
    return resolved;
  }

  autocomplete(options: AutocompleteOptions): FakeInteraction<APIApplicationCommandAutocompleteInteraction> {
    const prepared = this.prepare(options);
    const payload: APIApplicationCommandAutocompleteInteraction = {
      ...prepared.common,
      type: InteractionType.ApplicationCommandAutocomplete,
      data: {
        id: this.commandId(options.name, ApplicationCommandType.ChatInput),
        name: options.name,
        type: ApplicationCommandType.ChatInput,
        ...(prepared.guildId ? { guild_id: prepared.guildId } : {}),
        options: nestOptions(options.options, options.subcommand, undefined),
      },
    };
    return this.finish(options, prepared, payload, this.commandMetadata(prepared));
  }

  clickButton(options: ButtonOptions): FakeInteraction<APIMessageComponentButtonInteraction> {
    const record = this.messageRecord(options.message, 'clickButton');
    const button = findButton(record.message.components, options.customId);
    if (!options.force && (!button || button.disabled)) {
      const ids = JSON.stringify(record.message.components ?? []);
      throw new Error(
        `fake discord: message ${record.id} has no ${button ? 'enabled ' : ''}button "${options.customId}" (components: ${ids}); pass force: true to click anyway`,
      );
    }
    const prepared = this.prepare({
      channel: record.channelId,
      ...options,
      guild: record.guildId !== undefined,
    });
    const payload: APIMessageComponentButtonInteraction = {
      ...prepared.common,
      type: InteractionType.MessageComponent,
      message: record.message,
      data: { custom_id: options.customId, component_type: ComponentType.Button },
    };
    const metadata: APIMessageInteractionMetadata = {
      id: prepared.common.id,
      type: InteractionType.MessageComponent,
      user: prepared.user,
      authorizing_integration_owners: prepared.common.authorizing_integration_owners,
      interacted_message_id: record.id,
    };
    return this.finish(options, prepared, payload, metadata);
  }

  messageContextMenu(
    options: MessageContextMenuOptions,
  ): FakeInteraction<APIMessageApplicationCommandInteraction> {
    const target =
      typeof options.targetMessage === 'string' || 'history' in options.targetMessage
        ? this.messageRecord(options.targetMessage, 'messageContextMenu').message
        : options.targetMessage;
    const prepared = this.prepare({ channel: target.channel_id, ...options });
    const payload: APIMessageApplicationCommandInteraction = {
      ...prepared.common,
      type: InteractionType.ApplicationCommand,
      data: {
        id: this.commandId(options.name, ApplicationCommandType.Message),
        name: options.name,
        type: ApplicationCommandType.Message,
        ...(prepared.guildId ? { guild_id: prepared.guildId } : {}),
        target_id: target.id,
        resolved: { messages: { [target.id]: target } },
      },
    };
    return this.finish(options, prepared, payload, {
      ...this.commandMetadata(prepared),
      target_message_id: target.id,
    });
  }

  submitModal(options: SubmitModalOptions): FakeInteraction<APIModalSubmitInteraction> {
    const from = options.from ?? this.latestModal(options.customId);
    if (from?.modal && from.modal.custom_id !== options.customId) {
      throw new Error(
        `fake discord: the modal shown was "${from.modal.custom_id}", not "${options.customId}"`,
      );
    }
    const fromMessage = from && 'message' in from.payload ? from.payload.message : undefined;
    const messageRef = options.message ?? (fromMessage ? fromMessage.id : undefined);
    const message =
      messageRef === undefined ? undefined : this.messageRecord(messageRef, 'submitModal').message;
    const prepared = this.prepare({
      member: from ? this.host.state.memberOf(from.guildId, from.user.id) : undefined,
      channel: from?.channelId,
      guild: from ? from.guildId !== undefined : undefined,
      ...options,
    });
    const components = from?.modal
      ? submissionFromModal(from.modal.components, options.fields, options.force ?? false)
      : plainSubmission(options.fields);
    const payload: APIModalSubmitInteraction = {
      ...prepared.common,
      type: InteractionType.ModalSubmit,
      data: { custom_id: options.customId, components },
      ...(message ? { message } : {}),
    };
    const triggering =
      from && from.metadata.type !== InteractionType.ModalSubmit
        ? from.metadata
        : this.commandMetadata(prepared);
    const metadata: APIMessageInteractionMetadata = {
      id: prepared.common.id,
      type: InteractionType.ModalSubmit,
      user: prepared.user,
      authorizing_integration_owners: prepared.common.authorizing_integration_owners,
      triggering_interaction_metadata: triggering,
    };
    return this.finish(options, prepared, payload, metadata);
  }

  private latestModal(customId: string): FakeInteraction | undefined {
    const all = [...this.host.state.interactions.values()];
    return all.reverse().find((ix) => ix.modal?.custom_id === customId);
  }

  private messageRecord(ref: MessageRef, caller: string): MessageRecord {
    const id = typeof ref === 'string' ? ref : ref.id;
    const record = this.host.state.messages.get(id);
    if (!record || record.deleted)
      throw new Error(`fake discord: ${caller}: no live message ${id} in the fake`);
    return record;
  }

  private commandId(name: string, type: ApplicationCommandType): string {
    const state = this.host.state;
    const all = [...state.globalCommands, ...[...state.guildCommands.values()].flat()];
    return all.find((command) => command.name === name && command.type === type)?.id ?? snowflake();
  }

  private commandMetadata(
    prepared: Prepared,
  ): APIMessageInteractionMetadata & { type: InteractionType.ApplicationCommand } {
    return {
      id: prepared.common.id,
      type: InteractionType.ApplicationCommand,
      user: prepared.user,
      authorizing_integration_owners: prepared.common.authorizing_integration_owners,
    };
  }

  private prepare(options: InteractionOptions): Prepared {
    const state = this.host.state;
    const createdAt =
      options.createdAt instanceof Date ? options.createdAt.getTime() : (options.createdAt ?? state.now());
    const inGuild = options.guild ?? true;
    const member = options.member ?? this.host.defaultMember;
    const user = member.user;
    const given = typeof options.channel === 'string' ? state.channels.get(options.channel) : options.channel;
    // Outside servers, a channel given is a DM between members (context 2), not the bot's own DM.
    const privateChannel = !inGuild && options.channel !== undefined;
    const channel = inGuild
      ? (given ?? (options.channel === undefined ? this.host.defaultChannel : undefined))
      : privateChannel
        ? given
        : state.dmChannelWith(user);
    if (!channel) throw new Error(`fake discord: unknown channel ${String(options.channel)}`);
    const guildId = inGuild && 'guild_id' in channel ? channel.guild_id : undefined;
    const ownInstall =
      options.ownInstall ??
      (privateChannel || (guildId !== undefined && state.guildsWithoutBot.has(guildId)));
    const appPermissions = options.appPermissions ?? state.appPermissionsIn(channel.id);
    const guildMember = guildId ? (state.memberOf(guildId, user.id) ?? member) : undefined;
    const guildLocaleOf = (id: string) => state.guilds.get(id)?.preferredLocale ?? Locale.EnglishUS;
    const common: CommonFields = {
      id: snowflake(createdAt),
      application_id: state.applicationId,
      token: `fake-ix.${randomBytes(36).toString('base64url')}`,
      version: 1,
      app_permissions: permissionString(appPermissions),
      locale: options.locale ?? Locale.EnglishUS,
      // Every interaction carries the user's unconsumed purchases, as Discord sends them.
      entitlements: [...state.entitlements.values()]
        .filter((each) => each.user_id === user.id && !each.consumed && !each.deleted)
        .map(({ consumeCalls: _calls, ...entitlement }) => entitlement) as never,
      authorizing_integration_owners:
        guildId && !ownInstall
          ? { [ApplicationIntegrationType.GuildInstall]: guildId }
          : { [ApplicationIntegrationType.UserInstall]: user.id },
      attachment_size_limit: options.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_SIZE_LIMIT,
      channel,
      channel_id: channel.id,
      context: guildId
        ? InteractionContextType.Guild
        : privateChannel
          ? InteractionContextType.PrivateChannel
          : InteractionContextType.BotDM,
      ...(guildMember && guildId
        ? {
            guild: { id: guildId, features: [], locale: guildLocaleOf(guildId) },
            guild_id: guildId,
            guild_locale: guildLocaleOf(guildId),
            member: interactionMemberPayload(guildMember),
          }
        : { user }),
    };
    return { common, createdAt, user, member: guildMember, channelId: channel.id, guildId };
  }

  private finish<P extends InteractionPayload>(
    options: InteractionOptions,
    prepared: Prepared,
    payload: P,
    metadata: APIMessageInteractionMetadata,
  ): FakeInteraction<P> {
    const ix: FakeInteraction<P> = {
      id: payload.id,
      token: payload.token,
      payload,
      createdAt: prepared.createdAt,
      dispatchedAt: this.host.state.now(),
      attachmentSizeLimit: payload.attachment_size_limit,
      channelId: prepared.channelId,
      guildId: prepared.guildId,
      user: prepared.user,
      metadata,
      acknowledged: false,
      callbackType: undefined,
      callbackAt: undefined,
      originalMessageId: undefined,
      followupIds: [],
      modal: undefined,
      autocompleteChoices: undefined,
      tokenRevoked: false,
    };
    this.host.state.interactions.set(ix.id, ix);
    this.host.state.interactionsByToken.set(ix.token, ix);
    if (options.dispatch !== false) this.host.dispatch(ix);
    return ix;
  }
}

function nestOptions<T extends InteractionType>(
  options: APIApplicationCommandInteractionDataBasicOption<T>[],
  subcommand: string | undefined,
  group: string | undefined,
): APIApplicationCommandInteractionDataOption<T>[] {
  if (!subcommand) return options;
  const sub: APIApplicationCommandInteractionDataSubcommandOption<T> = {
    name: subcommand,
    type: ApplicationCommandOptionType.Subcommand,
    options,
  };
  return group
    ? [{ name: group, type: ApplicationCommandOptionType.SubcommandGroup, options: [sub] }]
    : [sub];
}

type SubmittedComponent = APIModalSubmission['components'][number];

interface ModalInput {
  type: number;
  id?: number;
  custom_id?: string;
  required?: boolean;
  min_length?: number;
  max_length?: number;
  component?: ModalInput;
  components?: ModalInput[];
}

/** Mirrors the shown modal's layout (action rows or labels), filling values and checking the client-side rules. */
function submissionFromModal(
  shown: readonly unknown[],
  fields: Record<string, string | string[]>,
  force: boolean,
): SubmittedComponent[] {
  const used = new Set<string>();
  let nextId = 1;
  const fill = (input: ModalInput): Record<string, unknown> => {
    const id = input.id ?? nextId++;
    const customId = input.custom_id ?? '';
    used.add(customId);
    const given = fields[customId];
    if (input.type !== ComponentType.TextInput) {
      return { type: input.type, id, custom_id: customId, values: given === undefined ? [] : [given].flat() };
    }
    const value = Array.isArray(given) ? given.join(',') : (given ?? '');
    if (!force) checkTextInput(input, value);
    return { type: ComponentType.TextInput, id, custom_id: customId, value };
  };
  const components = (shown as ModalInput[]).map((top) => {
    const id = top.id ?? nextId++;
    if (top.type === ComponentType.ActionRow)
      return { type: top.type, id, components: (top.components ?? []).map(fill) };
    if (top.type === ComponentType.Label && top.component)
      return { type: top.type, id, component: fill(top.component) };
    return { type: top.type, id };
  });
  const unknown = Object.keys(fields).filter((key) => !used.has(key));
  if (unknown.length > 0 && !force) {
    throw new Error(
      `fake discord: the modal has no input(s) ${unknown.join(', ')} (inputs: ${[...used].join(', ')})`,
    );
  }
  return components as SubmittedComponent[];
}

function checkTextInput(input: ModalInput, value: string): void {
  const name = input.custom_id;
  if ((input.required ?? true) && value === '') {
    throw new Error(`fake discord: text input "${name}" is required; Discord would not let the user submit`);
  }
  if (value !== '' && input.min_length !== undefined && value.length < input.min_length) {
    throw new Error(`fake discord: text input "${name}" needs at least ${input.min_length} characters`);
  }
  if (input.max_length !== undefined && value.length > input.max_length) {
    throw new Error(`fake discord: text input "${name}" allows at most ${input.max_length} characters`);
  }
}

/** Without a recorded modal: one action row per field, each with a text input. */
function plainSubmission(fields: Record<string, string | string[]>): SubmittedComponent[] {
  return Object.entries(fields).map(([customId, value], index) => ({
    type: ComponentType.ActionRow,
    id: index * 2 + 1,
    components: [
      {
        type: ComponentType.TextInput,
        id: index * 2 + 2,
        custom_id: customId,
        value: Array.isArray(value) ? value.join(',') : value,
      },
    ],
  }));
}

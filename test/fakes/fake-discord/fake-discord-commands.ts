import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { formError } from './fake-discord-http.ts';

/**
 * The checks Discord applies when commands are registered, so a registration script that would be
 * rejected by Discord is rejected by the fake too (400 50035 with the offending field).
 */

const CHAT_INPUT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function checkName(name: unknown, where: string, chatInput: boolean): void {
  if (typeof name !== 'string' || name.length < 1 || name.length > 32) {
    throw formError(`${where}.name`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 32 in length.');
  }
  if (chatInput && (!CHAT_INPUT_NAME.test(name) || name !== name.toLowerCase())) {
    throw formError(`${where}.name`, 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  }
}

function checkDescription(description: unknown, where: string): void {
  if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
    throw formError(`${where}.description`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
}

function checkOptions(options: readonly APIApplicationCommandOption[] | undefined, where: string): void {
  if (!options) return;
  if (options.length > 25)
    throw formError(`${where}.options`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  let sawOptional = false;
  const names = new Set<string>();
  for (const [index, option] of options.entries()) {
    const at = `${where}.options.${index}`;
    checkName(option.name, at, true);
    checkDescription(option.description, at);
    if (names.has(option.name)) {
      throw formError(
        `${at}.name`,
        'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
        'Option names must be unique',
      );
    }
    names.add(option.name);
    const nested =
      option.type === ApplicationCommandOptionType.Subcommand ||
      option.type === ApplicationCommandOptionType.SubcommandGroup;
    if (nested) {
      checkOptions(option.options, at);
      continue;
    }
    if ('required' in option && option.required) {
      if (sawOptional) {
        throw formError(
          `${at}.required`,
          'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
          'Required options must be placed before non-required options',
        );
      }
    } else {
      sawOptional = true;
    }
    if ('choices' in option && option.choices && option.choices.length > 25) {
      throw formError(`${at}.choices`, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
    }
  }
}

export function validateCommands(commands: readonly RESTPostAPIApplicationCommandsJSONBody[]): void {
  const seen = new Set<string>();
  for (const [index, command] of commands.entries()) {
    const where = String(index);
    const type = command.type ?? ApplicationCommandType.ChatInput;
    const chatInput = type === ApplicationCommandType.ChatInput;
    checkName(command.name, where, chatInput);
    if (chatInput) {
      checkDescription('description' in command ? command.description : undefined, where);
      checkOptions('options' in command ? command.options : undefined, where);
    } else if ('description' in command && command.description) {
      throw formError(
        `${where}.description`,
        'APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION',
        'Context menu commands cannot have a description',
      );
    }
    const key = `${type}:${command.name}`;
    if (seen.has(key)) {
      throw formError(
        `${where}.name`,
        'APPLICATION_COMMANDS_DUPLICATE_NAME',
        `Application command names must be unique (${command.name})`,
      );
    }
    seen.add(key);
  }
}

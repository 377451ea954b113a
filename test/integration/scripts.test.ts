import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../fakes/fake-discord/fake-discord.ts';
import { killBotProcesses, startBotProcess } from '../harness/bot-process.ts';

const run = promisify(execFile);
let discord: FakeDiscord;

beforeAll(async () => {
  discord = await startFakeDiscord();
});
afterAll(() => discord.close());

/** Runs a script of the bot the way its npm script does, with only the given settings. */
async function script(file: string, env: Record<string, string>) {
  const settings = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  try {
    const { stdout, stderr } = await run('node', ['--import', 'tsx', file], {
      env: settings,
      cwd: process.cwd(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm start with bad settings', () => {
  it('stops with one clear line per problem and never prints a value', async () => {
    const secret = 'this-token-must-not-be-printed';
    const result = await script('src/index.ts', {
      DISCORD_TOKEN: secret,
      SORA_API_URL: 'not a url',
      MAX_CONCURRENT_JOBS: 'lots',
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual([
      'Invalid settings:',
      '  - SORA_API_KEY is required',
      '  - SORA_API_URL must be an http(s) URL such as https://example.com/v1',
      '  - MAX_CONCURRENT_JOBS must be a number',
    ]);
    expect(result.stderr + result.stdout).not.toContain(secret);
  });

  it('says plainly when Discord rejects the token, without printing it', async () => {
    const wrong = 'wrong-token-value-0123456789';
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-bad-token-'));
    const result = await script('src/index.ts', {
      DISCORD_TOKEN: wrong,
      DISCORD_API_URL: discord.apiUrl,
      SORA_API_KEY: 'sk-anything',
      DATA_DIR: dataDir,
    });
    await rm(dataDir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Discord rejected DISCORD_TOKEN');
    expect(result.stderr + result.stdout).not.toContain(wrong);
  });
});

describe('npm run register', () => {
  it('registers every command globally, finding the application id through the API', async () => {
    const result = await script('src/register.ts', {
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('globally');
    const names = discord.registeredCommands.global.map((command) => command.name).sort();
    expect(names).toEqual(['Make video', 'quota', 'usage', 'video', 'video-settings']);
    const placement = Object.fromEntries(
      discord.registeredCommands.global.map((command) => [
        command.name,
        [command.integration_types, command.contexts],
      ]),
    );
    // A member's own install (1) brings the job commands to any server, group DM or DM; admin ones stay in servers.
    expect(placement).toEqual({
      video: [
        [0, 1],
        [0, 1, 2],
      ],
      usage: [
        [0, 1],
        [0, 1, 2],
      ],
      'Make video': [
        [0, 1],
        [0, 1, 2],
      ],
      quota: [[0], [0]],
      'video-settings': [[0], [0]],
    });
    const image = (
      discord.registeredCommands.global.find((command) => command.name === 'video') as {
        options?: { name: string; file_types?: string[] }[];
      }
    ).options?.find((option) => option.name === 'image');
    expect(image?.file_types).toEqual(['image']);
  });

  it('with DISCORD_GUILD_ID: the job commands still globally (user installs need that), the admin ones in the server', async () => {
    const result = await script('src/register.ts', {
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guild.id,
    });
    expect(result.stderr).toBe('');
    expect(discord.registeredCommands.global.map((command) => command.name).sort()).toEqual([
      'Make video',
      'usage',
      'video',
    ]);
    expect(
      discord.registeredCommands.guilds[discord.guild.id]?.map((command) => command.name).sort(),
    ).toEqual(['quota', 'video-settings']);
  });

  it('registers in one server when DISCORD_GUILD_ID is set, with the model choice when several are offered', async () => {
    const result = await script('src/register.ts', {
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guild.id,
      SORA_MODELS: 'sora-2,sora-2-pro',
    });
    expect(result.stdout).toContain(`in server ${discord.guild.id}`);
    const video = discord.registeredCommands.global.find((command) => command.name === 'video');
    expect(JSON.stringify(video)).toContain('sora-2-pro');
  });

  it('offers the models of the catalogue (MODELS_FILE), needing none of its keys', async () => {
    const result = await script('src/register.ts', {
      DISCORD_TOKEN: discord.botToken,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_GUILD_ID: discord.guild.id,
      MODELS_FILE: 'models.example.yaml',
    });
    expect(result.stderr).toBe('');
    const video = discord.registeredCommands.global.find((command) => command.name === 'video');
    const offered = JSON.stringify(video);
    for (const id of ['veo-3.1-fast', 'kling-3', 'wan-2.5', 'seedance-2']) expect(offered).toContain(id);
    expect(offered).not.toContain('sora-2-pro');
  });
});

describe('npm start with a copied .env.example', () => {
  it('starts with every setting as .env.example leaves it, only the secrets and addresses filled in', async () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const settings = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    );
    const dataDir = await mkdtemp(path.join(tmpdir(), 'sora-bot-example-'));
    try {
      const bot = await startBotProcess(discord, {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...settings,
        DISCORD_TOKEN: discord.botToken,
        DISCORD_API_URL: discord.apiUrl,
        SORA_API_KEY: 'sk-example-0123456789',
        DATA_DIR: dataDir,
      });
      expect(bot.lines.some((line) => line.includes('"event":"bot_ready"'))).toBe(true);
    } finally {
      await killBotProcesses();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

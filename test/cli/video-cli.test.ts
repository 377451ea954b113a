import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentChunk,
  type FakeVideoService,
  progressStream,
  startFakeVideoService,
} from '../fakes/fake-video-service.ts';
import { readStreamFixture } from '../fakes/fixtures.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(PROJECT_ROOT, 'src/cli/video.ts');
/** tsx's loader by absolute URL: the CLI runs from a scratch directory so no real .env is read. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const API_KEY = 'sk-cli-test-secret-0123456789';
/** A 1×1 transparent PNG. */
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let service: FakeVideoService;
let workDir: string;

beforeAll(async () => {
  service = await startFakeVideoService();
  workDir = await mkdtemp(join(tmpdir(), 'video-cli-'));
});
afterAll(async () => {
  await service.close();
  await rm(workDir, { recursive: true, force: true });
});

/** Runs the CLI to its end; `onStderr` sees the progress as it comes and may send one Ctrl-C. */
function runCli(
  args: string[],
  env: Record<string, string> = {},
  onStderr?: (text: string, interrupt: () => void) => void,
): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, CLI, ...args], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH,
      SORA_API_KEY: API_KEY,
      SORA_API_URL: service.apiUrl,
      SORA_MODEL: 'sora-2',
      SERVICE_STALL_TIMEOUT_MS: '5000',
      SERVICE_TIMEOUT_MS: '20000',
      ...env,
    },
  });
  const result: CliResult = { code: -1, stdout: '', stderr: '' };
  let interrupted = false;
  const interrupt = () => {
    if (!interrupted) child.kill('SIGINT');
    interrupted = true;
  };
  child.stdout.on('data', (chunk: Buffer) => {
    result.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    result.stderr += chunk.toString();
    onStderr?.(result.stderr, interrupt);
  });
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ ...result, code: code ?? -1 }));
  });
}

describe('npm run video', () => {
  it('sends a local image as a data URL, saves the video and prints where', async () => {
    const image = join(workDir, 'cat.png');
    const out = join(workDir, 'cat.mp4');
    await writeFile(image, TINY_PNG);
    const video = Buffer.concat([Buffer.from('....ftypisom'), Buffer.alloc(4000, 7)]);
    const videoUrl = service.addVideo('cat.mp4', video);
    const served = service.enqueue({ ...progressStream({ steps: [20, 80], videoUrl }), chunkDelayMs: 5 });

    const result = await runCli([
      '--prompt',
      'a cat chasing light',
      '--image',
      image,
      '--duration',
      '10',
      '--orientation',
      'portrait',
      '--out',
      out,
    ]);

    expect(result.stderr).not.toContain('Video failed');
    expect(result.code).toBe(0);
    const request = await served;
    expect(request.imageUrl).toBe(`data:image/png;base64,${TINY_PNG.toString('base64')}`);
    expect(request.promptText).toBe('a cat chasing light\n\nduration: 10 seconds, portrait 9:16');
    expect(request.body.model).toBe('sora-2');
    expect(await readFile(out)).toEqual(video);
    expect(result.stdout).toContain(out);
    expect(result.stdout).toContain(videoUrl);
    expect(result.stderr).toContain('80%');
  });

  it('exits 1 with the member-safe reason when the service rejects the key, never printing it', async () => {
    service.enqueue({
      status: 401,
      body: JSON.parse(readStreamFixture('errors/401-gptproto-invalid-signature.json')),
    });
    const result = await runCli(['--prompt', 'anything', '--out', join(workDir, 'never.mp4')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("rejected the bot's credentials");
    expect(`${result.stdout}${result.stderr}`).not.toContain(API_KEY);
  });

  it('exits 1 with the reason when the service fails the video', async () => {
    service.enqueue({ transcript: readStreamFixture('05-sora2api-content-policy-failure.sse') });
    const result = await runCli(['--prompt', 'anything', '--out', join(workDir, 'never.mp4')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('similarity to third-party content');
  });

  it('never prints the key a relay echoes in a note, a reason or a video URL', async () => {
    service.enqueue({
      events: [
        contentChunk(`> forwarded Authorization: Bearer ${API_KEY}\n\n`),
        contentChunk(`> ❌ 生成失败: key ${API_KEY} is out of credit\n\n`),
      ],
    });
    const failed = await runCli(['--prompt', 'anything', '--out', join(workDir, 'never.mp4')]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('forwarded Authorization: [redacted]');
    expect(failed.stderr).toContain('Video failed: key [redacted] is out of credit');
    const videoUrl = service.addVideo('keyed.mp4', 2048);
    service.enqueue(progressStream({ videoUrl: `${videoUrl}?key=${API_KEY}` }));
    const linked = await runCli(['--prompt', 'anything', '--out', join(workDir, 'keyed.mp4')]);
    expect(`${failed.stdout}${failed.stderr}${linked.stdout}${linked.stderr}`).not.toContain(API_KEY);
  });

  it('stops cleanly on Ctrl-C: the service sees the disconnect and no file is left', async () => {
    const out = join(workDir, 'cancelled.mp4');
    const served = service.enqueue({ ...progressStream({ steps: [15] }), stallAfterFrames: 4 });
    const result = await runCli(['--prompt', 'anything', '--out', out], {}, (stderr, interrupt) => {
      if (stderr.includes('15%')) interrupt();
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Cancelled.');
    expect(await (await served).ended).toBe('client-disconnected');
    await expect(readFile(out)).rejects.toThrow();
  });

  it('names a missing key without needing a Discord token', async () => {
    const result = await runCli(['--prompt', 'anything'], { SORA_API_KEY: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SORA_API_KEY is required');
    expect(result.stderr).not.toContain('DISCORD_TOKEN');
  });

  it('--model picks a model of the catalogue (MODELS_FILE): its provider, its key, its own model name', async () => {
    const models = join(workDir, 'models.yaml');
    await writeFile(
      models,
      [
        'providers:',
        `  elsewhere: { shape: chat-relay, base_url: "http://127.0.0.1:9/v1", api_key_env: OTHER_KEY }`,
        `  here: { shape: chat-relay, base_url: "${service.apiUrl}", api_key_env: HERE_KEY }`,
        'models:',
        '  - { id: first, provider: elsewhere, model: first-v1, durations: [5], aspect_ratios: ["16:9"] }',
        '  - { id: picked, provider: here, model: picked-v2, durations: [5, 10], aspect_ratios: ["16:9"] }',
      ].join('\n'),
    );
    const out = join(workDir, 'picked.mp4');
    const served = service.enqueue(progressStream({ steps: [50] }));

    const result = await runCli(['--prompt', 'a paper plane', '--model', 'picked', '--out', out], {
      SORA_API_KEY: '',
      MODELS_FILE: models,
      OTHER_KEY: 'sk-other-provider-000',
      HERE_KEY: 'sk-here-provider-111',
    });

    expect(result.stderr).not.toContain('Video failed');
    expect(result.code).toBe(0);
    const request = await served;
    expect(request.body.model).toBe('picked-v2');
    expect(request.headers.authorization).toBe('Bearer sk-here-provider-111');
  });

  it("--model names the catalogue's models when it is not one of them", async () => {
    const models = join(workDir, 'one-model.yaml');
    await writeFile(
      models,
      `providers:\n  here: { shape: chat-relay, base_url: "${service.apiUrl}", api_key_env: HERE_KEY }\nmodels:\n  - { id: only, provider: here, model: only-v1, durations: [5], aspect_ratios: ["16:9"] }\n`,
    );
    const result = await runCli(['--prompt', 'x', '--model', 'sora-2'], {
      MODELS_FILE: models,
      HERE_KEY: 'sk-here-provider-111',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--model must be a model id of the catalogue: only.');
  });

  it('explains a missing prompt', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--prompt is required');
  });
});

import { describe, expect, it } from 'vitest';
import {
  memberSafeReason,
  NO_VIDEO_REASON,
  RelayStreamInterpreter,
} from '../../src/services/relay-stream-interpreter.ts';
import type { VideoEvent } from '../../src/services/video-provider.ts';
import { contentChunk, reasoningChunk } from '../support/fake-video-service.ts';
import { readStreamFixture, ssePayloads, streamFixtureNames } from '../support/fixtures.ts';

/** Every event the payloads imply, then the final one. */
function interpret(payloads: unknown[]): VideoEvent[] {
  const interpreter = new RelayStreamInterpreter();
  const events = payloads.flatMap((payload) => [...interpreter.push(payload)]);
  const final = interpreter.finish();
  return events.at(-1) === final ? events : [...events, final];
}

function interpretFixture(name: string): VideoEvent[] {
  return interpret(ssePayloads(readStreamFixture(name)));
}

const percents = (events: VideoEvent[]) =>
  events.flatMap((event) =>
    event.type === 'progress' && event.percent !== undefined ? [event.percent] : [],
  );
const notes = (events: VideoEvent[]) =>
  events.flatMap((event) => (event.type === 'note' ? [event.text] : []));
const count = (events: VideoEvent[], type: VideoEvent['type']) =>
  events.filter((e) => e.type === type).length;

const GUARDRAIL_SIMILARITY =
  'This content may violate our guardrails concerning similarity to third-party content.';

describe('RelayStreamInterpreter on the stream fixtures', () => {
  const expectations: Record<
    string,
    { final: VideoEvent; percents: number[]; queued?: boolean; notes?: string[] }
  > = {
    '01-aiclound-zh-success.sse': {
      final: {
        type: 'succeeded',
        urls: ['https://videos.example.com/sora/3b69194c-0000-4000-8000-00000000a001.mp4'],
      },
      percents: [12.4, 36, 52.3, 79.7, 98.7],
      queued: true,
    },
    '02-gptproto-en-success.sse': {
      final: { type: 'succeeded', urls: ['https://videos.example.com/sora/a1b2c3d4e5f60783.mp4'] },
      percents: [8, 36, 61.5, 88.2],
      queued: true,
    },
    '03-asyncdata-zh-tokenized-multilink.sse': {
      final: { type: 'succeeded', urls: ['https://cdn.example.net/20251013/a7a7fake.mp4'] },
      percents: [36, 44, 52, 61, 69, 81],
      queued: true,
      notes: [],
    },
    '05-sora2api-content-policy-failure.sse': {
      final: { type: 'failed', reason: GUARDRAIL_SIMILARITY },
      percents: [47, 94],
      notes: ['Generation Process Begins', 'Initializing generation request...'],
    },
    '07-flow2api-veo-failure-no-url.sse': {
      final: {
        type: 'failed',
        reason:
          "The video service failed upstream (HTTP 401). Please try again later, or tell the bot's owner if it keeps happening.",
      },
      percents: [],
      notes: ['✨ 视频生成任务已启动', '初始化生成环境...', '提交视频生成任务...'],
    },
    '08-keepalive-ping-zh-success.sse': {
      final: {
        type: 'succeeded',
        urls: ['https://videos.example.com/sora/f794fa3f-0000-4000-8000-00000000a008.mp4'],
      },
      percents: [7.5, 41.2, 93],
      queued: true,
    },
    '20-sora2api-success-video-tag.sse': {
      final: {
        type: 'succeeded',
        urls: [
          'https://videos.example.com/az/files/00000000-0000-4000-8000-00000000c020/raw.mp4?se=2026-01-06T00%3A00%3A00Z&sp=r&sig=AbC%2Bdef%3D',
        ],
      },
      percents: [12, 58, 91],
    },
    '21-flow2api-veo-success-signed-url.sse': {
      final: {
        type: 'succeeded',
        urls: [
          'https://storage.googleapis.com/ai-sandbox-videofx/video/5d1c0fa2-0000-4000-8000-00000000d021?GoogleAccessId=labs-ai-sandbox-videoserver-prod@system.gserviceaccount.com&Expires=1770954600&Signature=Zm9v%2BYmFy%2Fbaz%3D%3D',
        ],
      },
      percents: [0, 3, 7],
    },
    '22-asyncdata-en-tokenized.sse': {
      final: { type: 'succeeded', urls: ['https://filesystem.site/cdn/20251014/b2b2fake.mp4'] },
      percents: [23, 41, 76, 94],
      queued: true,
      notes: [],
    },
    '23-gptproto-en-integer-progress.sse': {
      final: { type: 'succeeded', urls: ['https://videos.example.com/sora/0000a023.mp4'] },
      percents: [36, 72],
      queued: true,
    },
    '24-sora2api-midstream-error.sse': {
      final: { type: 'failed', reason: 'Upstream API timeout: Generation exceeded 3000 seconds limit' },
      percents: [88],
    },
    '25-aiclound-zh-crlf-success.sse': {
      final: { type: 'succeeded', urls: ['https://videos.example.com/sora/0000a025.mp4'] },
      percents: [25, 75],
      queued: true,
    },
    '26-sora2api-retry-then-success.sse': {
      final: { type: 'succeeded', urls: ['https://oscdn2.dyysy.com/MP4/s_68f0fake0000000000000000026.mp4'] },
      percents: [35, 64],
    },
    '27-aiclound-zh-done-without-url.sse': {
      final: { type: 'failed', reason: NO_VIDEO_REASON },
      percents: [42],
      queued: true,
    },
    '28-aiclound-zh-echo-with-markers-success.sse': {
      final: { type: 'succeeded', urls: ['https://videos.example.com/sora/0000a028.mp4'] },
      percents: [10],
      queued: true,
      notes: [],
    },
    '29-aiclound-zh-failure.sse': {
      final: {
        type: 'failed',
        reason: 'This content may violate our guardrails around violence or graphic content.',
      },
      percents: [91.3],
      queued: true,
    },
  };

  it('has an expectation for every fixture file', () => {
    expect(Object.keys(expectations).sort()).toEqual(streamFixtureNames());
  });

  for (const [name, expected] of Object.entries(expectations)) {
    it(`reads ${name}`, () => {
      const events = interpretFixture(name);
      expect(events.at(-1)).toEqual(expected.final);
      expect(count(events, 'succeeded') + count(events, 'failed')).toBe(1);
      expect(percents(events)).toEqual(expected.percents);
      expect(count(events, 'queued')).toBe(expected.queued ? 1 : 0);
      if (expected.notes) expect(notes(events)).toEqual(expected.notes);
    });
  }

  it('means the same whatever the chunk boundaries (text re-fed one character at a time)', () => {
    for (const name of streamFixtureNames()) {
      const payloads = ssePayloads(readStreamFixture(name));
      expect(interpret(payloads.flatMap(splitIntoCharacters)), name).toEqual(interpret(payloads));
    }
  });
});

/** One payload per character of its text, keeping everything else (usage, errors, finish reasons). */
function splitIntoCharacters(payload: unknown): unknown[] {
  const choice = (payload as { choices?: Array<{ delta?: Record<string, unknown> }> }).choices?.[0];
  const delta = choice?.delta;
  const field = typeof delta?.content === 'string' ? 'content' : 'reasoning_content';
  const text = delta?.[field];
  if (typeof text !== 'string' || text.length < 2 || (delta?.content && delta?.reasoning_content))
    return [payload];
  return Array.from(text, (character) => ({
    choices: [{ ...choice, delta: { ...delta, [field]: character } }],
  }));
}

describe('RelayStreamInterpreter on shapes beyond the fixtures', () => {
  it('joins a URL split across chunks', () => {
    const events = interpret([
      contentChunk('> ✅ 视频生成成功，[点击这里](https://videos.exa'),
      contentChunk('mple.com/sora/split.m'),
      contentChunk('p4) 查看视频~~~\n\n'),
    ]);
    expect(events).toEqual([{ type: 'succeeded', urls: ['https://videos.example.com/sora/split.mp4'] }]);
  });

  it('reads bare progress tokens that arrive on their own lines after a progress line', () => {
    const events = interpret([
      contentChunk('>🏃 进度 36..\n'),
      contentChunk('44..\n'),
      contentChunk('61..\n'),
    ]);
    expect(percents(events)).toEqual([36, 44, 61]);
  });

  it('reads progress in the forms the families use', () => {
    const lines = [
      '> 🏃 进度：12.0%\n',
      '>🏃 Progress 20...\n',
      '> 🏃 Progress: 31%\n',
      '**Video Generation Progress**: 47% (running)\n',
      '生成进度: 55%\n',
      '> 66%\n',
      'Rendering frames 70%\n',
    ];
    expect(percents(interpret(lines.map(contentChunk)))).toEqual([12, 20, 31, 47, 55, 66, 70]);
  });

  it('never reports progress going backwards and clamps to 100', () => {
    const events = interpret(
      ['> 🏃 进度：50%\n', '> 🏃 进度：40%\n', '> 🏃 进度：50%\n', '> 🏃 进度：180%\n'].map(contentChunk),
    );
    expect(percents(events)).toEqual([50, 100]);
  });

  it('reports "generating" once, without a number, for 生成中 and Generating', () => {
    const events = interpret([
      contentChunk('> 生成中.'),
      contentChunk('.'),
      contentChunk('\n> Generating...\n'),
    ]);
    expect(events.slice(0, -1)).toEqual([{ type: 'progress' }]);
  });

  it('reports queued once per transition, not per dot', () => {
    const events = interpret(
      ['> 排队中', '.', '.', '\n> 🏃 进度 10..\n', '> Queuing...\n', '> Queuing...\n'].map(contentChunk),
    );
    expect(events.slice(0, -1).map((event) => event.type)).toEqual(['queued', 'progress', 'queued']);
  });

  it('reads the html video tag of sora2api with a STOP finish reason', () => {
    const events = interpret([
      reasoningChunk('\n**Video Generation Progress**: 63% (running)\n'),
      {
        choices: [
          {
            delta: { content: "```html\n<video src='https://videos.example.com/v/1' controls></video>\n```" },
            finish_reason: 'STOP',
          },
        ],
      },
    ]);
    expect(events).toEqual([
      { type: 'progress', percent: 63 },
      { type: 'succeeded', urls: ['https://videos.example.com/v/1'] },
    ]);
  });

  it('orders video files before extension-less player links and drops images, task pages and other links', () => {
    const events = interpret([
      contentChunk('> ✅ done\n'),
      contentChunk(
        '>[数据预览](https://asyncdata.net/web/task_1) | [原始数据](https://asyncdata.net/source/task_1)\n',
      ),
      contentChunk('![thumb](https://cdn.example.net/t.webp) [docs](https://example.com/help)\n'),
      contentChunk(
        "<video src='https://cdn.example.net/play?id=7&amp;sig=x'></video> https://cdn.example.net/v.mp4",
      ),
    ]);
    expect(events.at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.net/v.mp4', 'https://cdn.example.net/play?id=7&sig=x'],
    });
  });

  it('takes a bare URL that is the whole content as the video', () => {
    const events = interpret([contentChunk('https://drive.example.com/uc?id=abc&export=download')]);
    expect(events).toEqual([
      { type: 'succeeded', urls: ['https://drive.example.com/uc?id=abc&export=download'] },
    ]);
  });

  it('takes a link without a video extension only after a success marker', () => {
    expect(interpret([contentChunk('see https://example.com/page for details\n')]).at(-1)).toEqual({
      type: 'failed',
      reason: NO_VIDEO_REASON,
    });
    expect(interpret([contentChunk('✅ ready: https://example.com/page\n')]).at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://example.com/page'],
    });
    const statusStyle = interpret([
      contentChunk('status: processing 55%\n'),
      contentChunk('status: completed\nvideo_url: https://cdn.example.com/v/123?sig=abc\n'),
    ]);
    expect(statusStyle.at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/v/123?sig=abc'],
    });
  });

  it('reads a hybrid non-stream reply from message.content', () => {
    const events = interpret([
      {
        object: 'chat.completion',
        choices: [
          { message: { content: '✅ 视频生成成功，[点击这里](https://x.example/v.mp4) 查看视频~~~' } },
        ],
      },
    ]);
    expect(events).toEqual([{ type: 'succeeded', urls: ['https://x.example/v.mp4'] }]);
  });

  it('reads structured delta.output video URLs', () => {
    const events = interpret([
      { choices: [{ delta: { output: [{ url: 'https://x.example/out', type: 'video', task_id: 't' }] } }] },
    ]);
    expect(events).toEqual([{ type: 'succeeded', urls: ['https://x.example/out'] }]);
  });

  it('ignores usage chunks with no choices', () => {
    const events = interpret([{ choices: [], usage: { total_tokens: 3 } }, contentChunk('> 🏃 进度：5%\n')]);
    expect(events).toEqual([
      { type: 'progress', percent: 5 },
      { type: 'failed', reason: NO_VIDEO_REASON },
    ]);
  });

  it('fails on a top-level error object with a member-safe message', () => {
    const events = interpret([
      contentChunk('> 🏃 进度：5%\n'),
      {
        error: {
          message: '  Upstream   exploded (request id: 20251101093000123456789fake)  ',
          type: 'server_error',
        },
      },
      contentChunk('> ✅ 视频生成成功，[点击这里](https://x.example/v.mp4)\n'),
    ]);
    expect(events.at(-1)).toEqual({ type: 'failed', reason: 'Upstream exploded' });
    expect(count(events, 'succeeded')).toBe(0);
  });

  it('keeps the reason of a failure heading from the line that follows it', () => {
    const events = interpret([
      reasoningChunk('**Content Policy Violation**\n\n'),
      reasoningChunk('Your prompt names a real person.\n'),
    ]);
    expect(events).toEqual([{ type: 'failed', reason: 'Your prompt names a real person.' }]);
  });

  it('falls back to the heading when the stream ends right after it', () => {
    expect(interpret([reasoningChunk('**Content Policy Violation**\n')])).toEqual([
      { type: 'failed', reason: 'Content Policy Violation' },
    ]);
  });

  it('lets a later video win over an error line that did not end the stream', () => {
    const events = interpret([
      contentChunk('> Error: upstream slow, waiting\n'),
      contentChunk('> ✅ Video generated successfully, [click here](https://x.example/v.mp4)\n'),
    ]);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: ['https://x.example/v.mp4'] });
  });

  it('reports an error line as the reason when no video comes', () => {
    const events = interpret([contentChunk('> Task failed: quota exhausted upstream\n')]);
    expect(events.at(-1)).toEqual({ type: 'failed', reason: 'quota exhausted upstream' });
  });

  it('keeps the final failure after sora2api retries run out', () => {
    const events = interpret([
      reasoningChunk('**生成失败，正在重试**\n\n第 3 次重试（共 3 次）...\n\n'),
      { choices: [{ delta: { content: '❌ 生成失败: upstream busy' }, finish_reason: 'STOP' }] },
    ]);
    expect(events.at(-1)).toEqual({ type: 'failed', reason: 'upstream busy' });
  });

  it('does not flip a decided outcome', () => {
    const interpreter = new RelayStreamInterpreter();
    interpreter.push(contentChunk('> ✅ 视频生成成功，[点击这里](https://x.example/v.mp4)\n'));
    expect(interpreter.push(contentChunk('> ❌ 生成失败: late noise\n'))).toEqual([]);
    expect(interpreter.finish()).toEqual({ type: 'succeeded', urls: ['https://x.example/v.mp4'] });
  });

  it('reads a content filter finish reason as the failure when no video came', () => {
    const events = interpret([{ choices: [{ delta: {}, finish_reason: 'content_filter' }] }]);
    expect(events).toEqual([
      { type: 'failed', reason: "The video service's content filter blocked this video." },
    ]);
  });

  it('reads a non-JSON payload as text and ignores broken JSON', () => {
    expect(interpret(['{"choices": [{"delta": {"content": "❌ 生成失败: x"', '> 🏃 进度：30%\n'])).toEqual([
      { type: 'progress', percent: 30 },
      { type: 'failed', reason: NO_VIDEO_REASON },
    ]);
  });

  it('turns notes into short plain text, skipping ids and links', () => {
    const events = interpret([
      contentChunk('**Generation Process Begins**\n> ID: `task_01k7`\n> sid: s_68ec\n'),
      contentChunk(`> ${'long words '.repeat(40)}\n`),
    ]);
    const [first, second] = notes(events);
    expect(first).toBe('Generation Process Begins');
    expect(second?.length).toBeLessThanOrEqual(160);
    expect(second?.endsWith('…')).toBe(true);
  });
});

describe('memberSafeReason', () => {
  it('hides upstream HTTP noise', () => {
    expect(memberSafeReason('Flow API request failed: HTTP Error 403: Forbidden')).toBe(
      "The video service failed upstream (HTTP 403). Please try again later, or tell the bot's owner if it keeps happening.",
    );
  });

  it('drops request ids, collapses whitespace and bounds the length', () => {
    expect(memberSafeReason('rate\n limited (request id: abc-123)')).toBe('rate limited');
    expect(memberSafeReason('x'.repeat(1000)).length).toBeLessThanOrEqual(300);
  });

  it('never returns an empty reason', () => {
    expect(memberSafeReason('   ')).toBe('The service could not make this video.');
  });
});

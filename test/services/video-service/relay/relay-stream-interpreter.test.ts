import { describe, expect, it } from 'vitest';
import {
  memberSafeReason,
  NO_VIDEO_REASON,
  RelayStreamInterpreter,
  type RelayStreamInterpreterOptions,
} from '../../../../src/services/video-service/relay/relay-stream-interpreter.ts';
import { ServiceTextRedaction } from '../../../../src/services/video-service/service-text-redaction.ts';
import type { VideoEvent } from '../../../../src/services/video-service/video-provider.ts';
import { contentChunk, reasoningChunk } from '../../../fakes/fake-video-service.ts';
import { readStreamFixture, ssePayloads, streamFixtureNames } from '../../../fakes/fixtures.ts';
import { inEnglish } from '../../../harness/in-english.ts';

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
      expect(inEnglish(events.at(-1))).toEqual(inEnglish(expected.final));
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
    expect(inEnglish(events)).toEqual([
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
    expect(inEnglish(memberSafeReason('Flow API request failed: HTTP Error 403: Forbidden'))).toBe(
      "The video service failed upstream (HTTP 403). Please try again later, or tell the bot's owner if it keeps happening.",
    );
  });

  it('drops request ids, collapses whitespace and bounds the length', () => {
    expect(memberSafeReason('rate\n limited (request id: abc-123)')).toBe('rate limited');
    expect(inEnglish(memberSafeReason('x'.repeat(1000))).length).toBeLessThanOrEqual(300);
  });

  it('never returns an empty reason', () => {
    expect(inEnglish(memberSafeReason('   '))).toBe('The service could not make this video.');
  });
});

const KEY = 'sk-test-0123456789abcdef';
const redaction = new ServiceTextRedaction([KEY]);

function interpretWith(payloads: unknown[], options: RelayStreamInterpreterOptions): VideoEvent[] {
  const interpreter = new RelayStreamInterpreter(options);
  const events = payloads.flatMap((payload) => [...interpreter.push(payload)]);
  const final = interpreter.finish();
  return events.at(-1) === final ? events : [...events, final];
}

const SUCCESS_LINE = '> ✅ 视频生成成功，[点击这里](https://videos.example.com/sora/real.mp4) 查看视频~~~\n';
const REAL = 'https://videos.example.com/sora/real.mp4';

describe('RelayStreamInterpreter on hostile input', () => {
  it('reads a failure reason behind 8 KB of whitespace, without its request id', () => {
    const message = `${' '.repeat(8192)}quota exhausted${' \t'.repeat(2000)}(request id: ${' '.repeat(2000)}abc-1)`;
    expect(interpret([{ error: { message } }])).toEqual([{ type: 'failed', reason: 'quota exhausted' }]);
  });

  it('reads the video after a line with a long whitespace run', () => {
    const events = interpret([
      contentChunk('> 🏃 进度：40%\n'),
      contentChunk(`> note${' '.repeat(20_000)}(request id ${' '.repeat(20_000)}x\n`),
      contentChunk('> 🏃 进度：80%\n'),
      contentChunk(SUCCESS_LINE),
    ]);
    expect(percents(events)).toEqual([40, 80]);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [REAL] });
  });

  it('reads the video after runs of brackets and parentheses', () => {
    for (const run of ['[', '(', '![', '](', '<video src="', '"'].map((unit) => unit.repeat(20_000))) {
      const events = interpret([
        contentChunk('> 🏃 进度：40%\n'),
        contentChunk(`${run}\n`),
        contentChunk(SUCCESS_LINE),
      ]);
      expect(events.at(-1), run.slice(0, 12)).toEqual({ type: 'succeeded', urls: [REAL] });
      expect(percents(events)).toEqual([40]);
    }
  });

  it('reads a 1 MB line by its start and its end: the success marker and the link', () => {
    const padding = `${' '.repeat(500_000)}${'[('.repeat(250_000)}`;
    const events = interpret([contentChunk(`> ✅ 视频生成成功 ${padding} [点击这里](${REAL})\n`)]);
    expect(events).toEqual([{ type: 'succeeded', urls: [REAL] }]);
  });

  it('reads on after a 1 MB line that never ends in one chunk', () => {
    const events = interpret([
      contentChunk('> 🏃 进度：10%\n'),
      ...Array.from({ length: 16 }, () => contentChunk(' ['.repeat(32_768))),
      contentChunk('\n> 🏃 进度：90%\n'),
      contentChunk(SUCCESS_LINE),
    ]);
    expect(percents(events)).toEqual([10, 90]);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [REAL] });
  });

  it('makes a member-safe reason of an 8 KB error text in any shape', () => {
    expect(memberSafeReason(`${'('.repeat(4096)}${' '.repeat(4096)}`)).toMatch(/^\(+…$/);
    expect(
      inEnglish(memberSafeReason(`${' '.repeat(8192)}Flow API request failed: HTTP Error 403`)),
    ).toContain('HTTP 403');
    expect(inEnglish(memberSafeReason(`${'request id '.repeat(800)}bad prompt`)).length).toBeLessThanOrEqual(
      300,
    );
  });
});

describe('RelayStreamInterpreter choosing the link', () => {
  it('never takes a link on a progress or queue line, however video-like', () => {
    const events = interpret([
      contentChunk('> ⌛️ 任务正在队列中 https://cdn.example.com/queue/teaser.mp4\n'),
      contentChunk('> 🏃 Progress 50%: https://cdn.example.com/clip/partial.mp4\n'),
      contentChunk(SUCCESS_LINE),
    ]);
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: [REAL] });
    expect(percents(events)).toEqual([50]);
  });

  it('puts a clean copy before a watermarked one listed first on the success line', () => {
    const line =
      '> ✅ Video generated successfully: [watermarked](https://cdn.example.com/v/1.mp4) [download](https://cdn.example.com/v/1-clean.mp4)\n';
    expect(interpret([contentChunk(line)]).at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/v/1-clean.mp4', 'https://cdn.example.com/v/1.mp4'],
    });
  });

  it('waits past a watermarked copy for the clean one on a later line', () => {
    const interpreter = new RelayStreamInterpreter();
    expect(interpreter.push(contentChunk('> ✅ 生成完成\n'))).toEqual([]);
    expect(interpreter.push(contentChunk('[带水印](https://cdn.example.com/v/wm.mp4)\n'))).toEqual([]);
    expect(interpreter.push(contentChunk('[无水印下载](https://cdn.example.com/v/clean.mp4)\n'))).toEqual([
      {
        type: 'succeeded',
        urls: ['https://cdn.example.com/v/clean.mp4', 'https://cdn.example.com/v/wm.mp4'],
      },
    ]);
  });

  it('ranks links on the success line above a link of its own seen earlier', () => {
    const events = interpret([
      contentChunk('https://cdn.example.com/early/sample.mp4\n'),
      contentChunk('> ✅ Video generated successfully, [click here](https://cdn.example.com/final?sig=1)\n'),
    ]);
    expect(events.at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/final?sig=1', 'https://cdn.example.com/early/sample.mp4'],
    });
  });

  it('settles on a waiting link when the completion finishes', () => {
    const interpreter = new RelayStreamInterpreter();
    expect(interpreter.push(contentChunk('https://drive.example.com/uc?id=abc\n'))).toEqual([]);
    expect(interpreter.push({ choices: [{ delta: {}, finish_reason: 'stop' }] })).toEqual([
      { type: 'succeeded', urls: ['https://drive.example.com/uc?id=abc'] },
    ]);
  });

  it('never returns a link from the member prompt, echoed in any form', () => {
    const prompt = 'make it like https://example.com/ref.mp4, but at night';
    const events = interpretWith(
      [
        contentChunk('prompt: make it like https://example.com/ref.mp4, but at night\n'),
        contentChunk(
          '> ✅ Done, as in https://example.com/ref.mp4: [click here](https://cdn.example.com/v?sig=2)\n',
        ),
      ],
      { prompt },
    );
    expect(events.at(-1)).toEqual({ type: 'succeeded', urls: ['https://cdn.example.com/v?sig=2'] });
    expect(notes(events)).toEqual([]);
  });

  it('never takes a link from quoted prompt text on the success line', () => {
    const line =
      '> ✅ "a cat like https://example.com/cat.mp4 at dusk" is ready: [play](https://cdn.example.com/v/9)\n';
    expect(interpret([contentChunk(line)]).at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/v/9'],
    });
  });

  it('fails with "no video" when the only link is the member prompt read back', () => {
    const events = interpretWith([contentChunk('> ✅ [click here](https://example.com/ref.mp4)\n')], {
      prompt: 'like https://example.com/ref.mp4',
    });
    expect(events.at(-1)).toEqual({ type: 'failed', reason: NO_VIDEO_REASON });
  });
});

describe('RelayStreamInterpreter redaction', () => {
  it('masks the key in an error event, a status line and a note, even split across chunks', () => {
    const failed = interpretWith([{ error: { message: `bad header Authorization: Bearer ${KEY}` } }], {
      redaction,
    });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: 'failed',
      reason: expect.stringMatching(/^bad header Authorization: \[redacted\]/),
    });
    expect(JSON.stringify(failed)).not.toContain(KEY);
    const noted = interpretWith(
      [contentChunk(`> upstream called with ${KEY.slice(0, 9)}`), contentChunk(`${KEY.slice(9)} ok\n`)],
      { redaction },
    );
    expect(notes(noted)).toEqual(['upstream called with [redacted] ok']);
    const hinted = interpretWith([contentChunk(`> Error: key ${KEY} over quota\n`)], { redaction });
    expect(JSON.stringify(hinted)).not.toContain(KEY);
  });

  it('masks credential-shaped text whoever it belongs to', () => {
    const events = interpretWith(
      [contentChunk('> relay said: authorization="Bearer abcdef123456" x-api-key: zz9\n')],
      {
        redaction,
      },
    );
    expect(notes(events)).toEqual(['relay said: authorization="[redacted]" x-api-key: [redacted]']);
  });

  it('masks the key in a video URL and tries a clean link first', () => {
    const events = interpretWith(
      [
        contentChunk(
          `> ✅ done: https://cdn.example.com/a.mp4?key=${KEY} [click here](https://cdn.example.com/b.mp4)\n`,
        ),
      ],
      { redaction },
    );
    expect(events.at(-1)).toEqual({
      type: 'succeeded',
      urls: ['https://cdn.example.com/b.mp4', 'https://cdn.example.com/a.mp4?key=[redacted'],
    });
  });

  it('masks a key cut by the line bound', () => {
    const line = `> note ${'x'.repeat(16_000)}${KEY}${'y'.repeat(16_000)}\n`;
    expect(JSON.stringify(interpretWith([contentChunk(line)], { redaction }))).not.toContain(KEY.slice(0, 8));
  });
});

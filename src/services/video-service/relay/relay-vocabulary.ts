/**
 * The words relays use, in English and Chinese, for queue, progress, success, retry and failure:
 * what the interpreter looks for in a line. Every pattern here is linear (the ReDoS test checks).
 */

export const QUEUED = /⌛|任务正在队列中|排队|queuing|queueing|in the queue|\bqueued\b/i;

export const GENERATING = /生成中|正在生成|\bgenerating\b|\brendering\b/i;

export const PROGRESS_WORD = /进度|progress|🏃|生成中|generating|rendering|processing|running|处理中/i;

export const PERCENT_ONLY = /^\W*\d{1,3}(?:\.\d+)?\s*%\W*$/;

export const BARE_PROGRESS_TOKEN = /^\d{1,3}(?:\.\d+)?(?:\.{2,}|%)?(?:\s|$)/;

/** Any outcome marker, link or retry could be on the line: one cheap test spares the others on progress lines. */
export const MIGHT_BE_OUTCOME =
  /[❌✅<]|失败|错误|出错|成功|完成|重试|:\/\/|polic|guardrail|moderation|success|succeeded|complete|finished|retry|fail|error/i;

export const SUCCEEDED =
  /✅|成功|已完成|生成完成|generated successfully|generat(?:ion|ing) complete|\b(?:completed|succeeded|successful(?:ly)?|finished)\b|<video/i;

/** sora2api prints `**生成失败，正在重试**` before a retry: a note, not the end. */
export const RETRYING = /正在重试|第\s*\d+\s*次重试|\bretrying\b/i;

export const FAILED =
  /❌|生成失败|生成错误|content policy violation|guardrails|violates? (?:our|the|its) (?:content )?polic|moderation/i;

/** Wins only when the stream ends with no video. */
export const MAYBE_FAILED = /\b(?:failed|failure|error)\b|失败|错误|出错/i;

/** Leading words that only say "failed"; the separator keeps `Failed to upload…` whole. */
export const FAILURE_PREFIX =
  /^(?:(?:视频)?生成(?:失败|错误)|(?:video )?generation failed|task failed|failed|failure|error|失败原因|原因|reason)\s*(?:[,，:：]\s*|$)/i;

export const CONTENT_POLICY_HEADING = /^content policy violation$/i;

/** Lines that only name the task, e.g. `> ID: \`task_…\`` or `> sid: s_…`. */
export const IDENTIFIER_LINE = /^(?:task[ _]?)?s?id\s*[:：]/i;

/** A relay reading the member's prompt back (`prompt: …`): its links are the member's, not the video. */
export const PROMPT_LINE = /^["']?(?:prompt|提示词)["']?\s*[:：]/i;

import type { APIMessage } from 'discord-api-types/v10';
import type {
  FakeChannel,
  FakeDiscord,
  FakeMember,
  RequestRecord,
} from '../fakes/fake-discord/fake-discord.ts';

/**
 * Small helpers for the fault-injection and restart suites: reading the bot's JSON log lines,
 * waiting on them, and looking at what the member sees (buttons, files, links).
 */

export interface LogEntry {
  level: string;
  event: string;
  jobId?: string;
  state?: string;
  [field: string]: unknown;
}

/** The bot's log lines that are JSON, parsed (anything else is skipped). */
export function parseLogs(lines: readonly string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      // a partial line from a child process: the next read completes it
    }
  }
  return entries;
}

/**
 * Resolves with the first log entry matching `predicate`, checking the lines already written and
 * then each new one (the array is appended to by the bot; it is polled, nothing else signals it).
 */
export async function waitForLog(
  lines: readonly string[],
  predicate: (entry: LogEntry) => boolean,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<LogEntry> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const found = parseLogs(lines).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) {
      const recent = lines.slice(-8).join('\n    ');
      throw new Error(`timed out waiting for ${options.what ?? 'a log line'}; last lines:\n    ${recent}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The `job_finished` line of one job: its final state, delivery and reason. */
export function waitForJobFinished(lines: readonly string[], jobId: string): Promise<LogEntry> {
  return waitForLog(lines, (entry) => entry.event === 'job_finished' && entry.jobId === jobId, {
    what: `job_finished of ${jobId}`,
  });
}

export function logsOfJob(lines: readonly string[], jobId: string, event?: string): LogEntry[] {
  return parseLogs(lines).filter((entry) => entry.jobId === jobId && (!event || entry.event === event));
}

export const hasVideoFile = (message: APIMessage): boolean =>
  message.attachments.some((file) => file.filename.endsWith('.mp4'));

export interface ButtonView {
  label?: string;
  customId?: string;
  url?: string;
}

/** The buttons of a message, in rows of a text message or anywhere in a Components V2 card. */
export function buttonsOf(message: APIMessage): ButtonView[] {
  return nestedComponents(message.components ?? [])
    .filter((component) => component.type === 2)
    .map((button) => ({
      label: typeof button.label === 'string' ? button.label : undefined,
      customId: typeof button.custom_id === 'string' ? button.custom_id : undefined,
      url: typeof button.url === 'string' ? button.url : undefined,
    }));
}

function nestedComponents(components: readonly unknown[]): Record<string, unknown>[] {
  return (components as Record<string, unknown>[]).flatMap((component) => [
    component,
    ...nestedComponents(Array.isArray(component.components) ? component.components : []),
    ...nestedComponents(component.accessory ? [component.accessory] : []),
  ]);
}

export function labelsOf(message: APIMessage): string[] {
  return buttonsOf(message).map((button) => button.label ?? '');
}

export function customIdOf(message: APIMessage, label: string): string {
  const id = buttonsOf(message).find((button) => button.label === label)?.customId;
  if (!id) throw new Error(`no ${label} button on the message: ${JSON.stringify(message.components)}`);
  return id;
}

/** The job id carried by a job message's Cancel, Retry or Regenerate button, if it has one. */
export function jobIdIn(message: APIMessage): string | undefined {
  const id = buttonsOf(message)
    .map((button) => button.customId)
    .find((customId) => customId && /^(cancel|retry):/.test(customId));
  return id?.slice(id.indexOf(':') + 1);
}

export function jobIdOf(message: APIMessage): string {
  const id = jobIdIn(message);
  if (!id) throw new Error(`no job button on the message: ${JSON.stringify(message.content)}`);
  return id;
}

/** Everything of a recorded request except its Authorization header, as one string to search. */
export function requestTextWithoutAuth(request: RequestRecord): string {
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
  );
  return JSON.stringify({
    method: request.method,
    path: request.path,
    query: request.query,
    headers,
    body: request.body,
    files: request.files.map((file) => ({ name: file.name, field: file.field })),
    response: request.response,
  });
}

export interface Usage {
  /** Videos counted this period (a running job's reserved video included). */
  used: number;
  /** Jobs holding a reservation now. */
  running: number;
}

/** A member's quota as `/usage` tells them (default member unless given). */
export async function usageOf(
  discord: FakeDiscord,
  member?: FakeMember,
  channel?: FakeChannel,
): Promise<Usage> {
  const ix = discord.slashCommand({ name: 'usage', member, channel });
  const answer = await discord.waitForCallback(ix);
  const content = String((answer.body as { data?: { content?: string } }).data?.content);
  const used = /\*\*Your videos [^*]+:\*\* (\d+)/.exec(content)?.[1];
  const running = /In progress now: (\d+) video/.exec(content)?.[1];
  if (used === undefined || running === undefined) throw new Error(`unexpected /usage answer: ${content}`);
  return { used: Number(used), running: Number(running) };
}

import { english, type Translator } from '../../services/i18n/translator.ts';
import type { Orientation } from '../../services/video-service/video-provider.ts';

/**
 * Options written inside a chat message, the way members already write them for video bots:
 * `--duration 10`, `--portrait` / `--landscape`, `--model sora-2-pro`, and the service's own
 * `duration: 10 seconds`. Whatever is not recognised stays in the prompt untouched. The flags are
 * the same in every language; only the problems are told in the member's (`t`).
 */

export interface InlineOptions {
  prompt: string;
  durationSeconds?: number;
  orientation?: Orientation;
  model?: string;
  /** Member-facing problems with recognised options (a duration out of range, say). */
  problems: string[];
}

const DURATION_FLAG = /(^|\s)--duration[=\s]+(\d+)\s*s?(?=\s|$)/i;
const DURATION_TEXT =
  /(^|[\s,;，])duration\s*[:：]\s*(\d+)\s*(?:seconds?|secs?|s\b)?\s*[,;，]?(?=\s|$|[.。])/i;
const ORIENTATION_FLAG = /(^|\s)--(portrait|landscape|vertical|horizontal)(?=\s|$)/i;
const MODEL_FLAG = /(^|\s)--model[=\s]+(\S+)(?=\s|$)/i;

export function parseInlineOptions(
  text: string,
  models: readonly string[],
  durations: readonly number[],
  t: Translator = english,
): InlineOptions {
  const problems: string[] = [];
  let rest = text;
  const take = (pattern: RegExp): string | undefined => {
    const match = pattern.exec(rest);
    if (!match) return undefined;
    rest = `${rest.slice(0, match.index)}${match[1] ?? ''}${rest.slice(match.index + match[0].length)}`;
    return match[2];
  };

  const durationText = take(DURATION_FLAG) ?? take(DURATION_TEXT);
  let durationSeconds: number | undefined;
  if (durationText !== undefined) {
    const seconds = Number(durationText);
    if (durations.includes(seconds)) durationSeconds = seconds;
    else
      problems.push(
        t('check.duration', { durations: durations.map((d) => t.number(d)).join(', '), seconds }),
      );
  }

  const orientationWord = take(ORIENTATION_FLAG)?.toLowerCase();
  const orientation: Orientation | undefined =
    orientationWord === undefined
      ? undefined
      : orientationWord === 'portrait' || orientationWord === 'vertical'
        ? 'portrait'
        : 'landscape';

  const modelName = take(MODEL_FLAG);
  let model: string | undefined;
  if (modelName !== undefined) {
    if (models.includes(modelName)) model = modelName;
    else problems.push(t('check.model', { model: modelName.slice(0, 60), models: models.join(', ') }));
  }

  return { prompt: rest.replace(/\s+/g, ' ').trim(), durationSeconds, orientation, model, problems };
}

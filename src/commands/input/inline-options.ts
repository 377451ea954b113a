import type { AspectRatio } from '../../services/catalogue/catalogue.ts';
import { english, type Translator } from '../../services/i18n/translator.ts';

/**
 * Options written inside a chat message, the way members already write them for video bots:
 * `--duration 10`, `--landscape` / `--portrait` / `--square` (or `--ar 9:16`), `--model veo-3.1`,
 * and the service's own `duration: 10 seconds`. Whatever is not recognised stays in the prompt
 * untouched. A length or frame is taken as asked: admission fits it to the model the job gets. The
 * flags are the same in every language; only the problems are told in the member's (`t`).
 */

export interface InlineOptions {
  prompt: string;
  durationSeconds?: number;
  aspectRatio?: AspectRatio;
  model?: string;
  /** Member-facing problems with recognised options (a model that is not offered, say). */
  problems: string[];
}

const DURATION_FLAG = /(^|\s)--duration[=\s]+(\d+)\s*s?(?=\s|$)/i;
const DURATION_TEXT =
  /(^|[\s,;，])duration\s*[:：]\s*(\d+)\s*(?:seconds?|secs?|s\b)?\s*[,;，]?(?=\s|$|[.。])/i;
const FRAME_FLAG = /(^|\s)--(portrait|landscape|vertical|horizontal|square)(?=\s|$)/i;
const ASPECT_RATIO_FLAG = /(^|\s)--(?:ar|aspect[-_]?ratio)[=\s]+(16:9|9:16|1:1)(?=\s|$)/i;
const MODEL_FLAG = /(^|\s)--model[=\s]+(\S+)(?=\s|$)/i;

const ASPECT_RATIO_OF_WORD: Readonly<Record<string, AspectRatio>> = {
  landscape: '16:9',
  horizontal: '16:9',
  portrait: '9:16',
  vertical: '9:16',
  square: '1:1',
};

export function parseInlineOptions(
  text: string,
  models: readonly string[],
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
  const durationSeconds = durationText === undefined ? undefined : Number(durationText);

  const frameWord = take(FRAME_FLAG)?.toLowerCase();
  const aspectRatio =
    (take(ASPECT_RATIO_FLAG) as AspectRatio | undefined) ??
    (frameWord === undefined ? undefined : ASPECT_RATIO_OF_WORD[frameWord]);

  const modelName = take(MODEL_FLAG);
  let model: string | undefined;
  if (modelName !== undefined) {
    if (models.includes(modelName)) model = modelName;
    else problems.push(t('check.model', { model: modelName.slice(0, 60), models: models.join(', ') }));
  }

  return { prompt: rest.replace(/\s+/g, ' ').trim(), durationSeconds, aspectRatio, model, problems };
}

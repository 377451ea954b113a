/**
 * Refused words and phrases, found in a prompt in time linear in its length. Text is compared as
 * words: NFKC-normalised (so full-width "Ｆｏｏ" reads "foo"), case-folded, accents stripped
 * ("fóo" reads "foo"), split on everything that is not a letter or digit. An entry matches whole
 * words only ("ass" does not match "class"); a phrase matches the same words in a row, whatever
 * spaces or punctuation stand between them. No regular expression is ever built from an entry.
 *
 * Scripts written without spaces (Chinese, Japanese kana, Thai) are compared character by
 * character, so a refused word in them is found inside a sentence.
 */

/** One character of these scripts is one word: they put no spaces between words. */
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;
const COMBINING_MARKS = /\p{Mn}+/gu;

/** The words of a text, as entries and prompts are compared. */
export function wordsOf(text: string): string[] {
  const folded = text
    .normalize('NFKC')
    // Upper then lower case folds what lower case alone keeps apart ("ß" and "ss", "ς" and "σ").
    .toUpperCase()
    .toLowerCase()
    .normalize('NFD')
    .replace(COMBINING_MARKS, '');
  const words: string[] = [];
  let current = '';
  for (const character of folded) {
    if (UNSPACED_SCRIPT.test(character)) {
      if (current) words.push(current);
      words.push(character);
      current = '';
    } else if (WORD_CHARACTER.test(character)) {
      current += character;
    } else if (current) {
      words.push(current);
      current = '';
    }
  }
  if (current) words.push(current);
  return words;
}

interface MatcherNode {
  next: Map<string, MatcherNode>;
  /** Where to carry on when the next word does not continue this phrase (Aho–Corasick). */
  fallback: MatcherNode | undefined;
  /** The entry that ends here, or at the end of the longest fallback chain that ends one. */
  entry: string | undefined;
}

const node = (): MatcherNode => ({ next: new Map(), fallback: undefined, entry: undefined });

/**
 * A set of refused entries, searched with the Aho–Corasick automaton over words: every word of
 * the prompt is looked at a bounded number of times, whatever the entries.
 */
export class WordMatcher {
  private readonly root = node();
  /** Automaton steps taken by all `find` calls so far: the linear-time test counts them. */
  steps = 0;

  constructor(entries: Iterable<string>) {
    for (const entry of entries) {
      const words = wordsOf(entry);
      if (words.length === 0) continue;
      let at = this.root;
      for (const word of words) {
        let child = at.next.get(word);
        if (!child) {
          child = node();
          at.next.set(word, child);
        }
        at = child;
      }
      at.entry ??= entry;
    }
    this.linkFallbacks();
  }

  get isEmpty(): boolean {
    return this.root.next.size === 0;
  }

  /** The first refused entry the text contains, or undefined. */
  find(text: string): string | undefined {
    if (this.isEmpty) return undefined;
    let at = this.root;
    for (const word of wordsOf(text)) {
      let child = at.next.get(word);
      while (!child && at !== this.root) {
        this.steps += 1;
        at = at.fallback ?? this.root;
        child = at.next.get(word);
      }
      this.steps += 1;
      at = child ?? this.root;
      if (at.entry) return at.entry;
    }
    return undefined;
  }

  /** Breadth first, so each node's fallback is settled before its children need it. */
  private linkFallbacks(): void {
    const queue: MatcherNode[] = [];
    for (const child of this.root.next.values()) {
      child.fallback = this.root;
      queue.push(child);
    }
    for (let index = 0; index < queue.length; index += 1) {
      const parent = queue[index] as MatcherNode;
      for (const [word, child] of parent.next) {
        let fallback = parent.fallback;
        while (fallback && !fallback.next.has(word)) fallback = fallback.fallback;
        child.fallback = fallback?.next.get(word) ?? this.root;
        child.entry ??= child.fallback.entry;
        queue.push(child);
      }
    }
  }
}

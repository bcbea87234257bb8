// Counting a message the way its writer sees it. The composer shows
// characters (grapheme clusters: "👩‍👩‍👧", "🇧🇷" and "é" written as e plus an
// accent are one each), while the host's limit (limits.max_text) stays in
// UTF-8 bytes; textBudget puts the two together.

import { utf8Length } from './protocol';

/** near: the count turns into "n left" once this share of the byte limit is used. */
const NEAR = 0.8;

let segmenter: Intl.Segmenter | null | undefined;

/** graphemes splits s into the characters a reader sees. */
export function graphemes(s: string): string[] {
  if (segmenter === undefined) {
    segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter(undefined, { granularity: 'grapheme' }) : null;
  }
  if (!segmenter) return Array.from(s); // code points: close enough where there is no Segmenter
  return Array.from(segmenter.segment(s), (x) => x.segment);
}

/** countGraphemes is the number of characters a reader sees in s. */
export function countGraphemes(s: string): number {
  return graphemes(s).length;
}

export interface TextBudget {
  /** characters as the reader sees them */
  chars: number;
  /** UTF-8 bytes, what the host counts */
  bytes: number;
  /** ok: far from the limit; near: say how many are left; over: the host would refuse it */
  state: 'ok' | 'near' | 'over';
  /**
   * near (and ok): how many more characters fit, if they are like the
   * text's usual ones (the median bytes per character: 1 for plain letters)
   */
  left: number;
  /** over: how many characters, taken from the end, make the text fit */
  excess: number;
}

/** textBudget measures text against a limit of maxBytes UTF-8 bytes. */
export function textBudget(text: string, maxBytes: number): TextBudget {
  const chars = graphemes(text);
  const sizes = chars.map(utf8Length);
  const bytes = sizes.reduce((a, b) => a + b, 0);
  if (bytes > maxBytes) {
    let excess = 0;
    for (let rest = bytes; rest > maxBytes; excess++) rest -= sizes[sizes.length - 1 - excess];
    return { chars: chars.length, bytes, state: 'over', left: 0, excess };
  }
  const left = Math.floor((maxBytes - bytes) / Math.max(1, median(sizes)));
  return { chars: chars.length, bytes, state: bytes >= maxBytes * NEAR ? 'near' : 'ok', left, excess: 0 };
}

function median(xs: number[]): number {
  if (xs.length === 0) return 1;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

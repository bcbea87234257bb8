import { describe, expect, it } from 'vitest';
import { countGraphemes, graphemes, textBudget } from './textcount';
import { utf8Length } from './protocol';

const FAMILY = '👩‍👩‍👧'; // woman ZWJ woman ZWJ girl: 18 bytes
const BRAZIL = '🇧🇷'; // two regional indicators: 8 bytes

describe('countGraphemes', () => {
  it('counts an emoji sequence as one character', () => {
    expect(utf8Length(FAMILY)).toBe(18);
    expect(countGraphemes(FAMILY)).toBe(1);
    expect(countGraphemes('👍🏽')).toBe(1); // with a skin tone
    expect(countGraphemes('🏳️‍🌈')).toBe(1);
  });

  it('counts a flag as one character', () => {
    expect(countGraphemes(BRAZIL)).toBe(1);
    expect(countGraphemes(BRAZIL + '🇵🇹')).toBe(2);
  });

  it('counts a letter with a combining accent as one character', () => {
    const composed = 'ação';
    const decomposed = composed.normalize('NFD'); // a, c + cedilla, a + tilde, o
    expect(decomposed.length).toBe(6);
    expect(countGraphemes(composed)).toBe(4);
    expect(countGraphemes(decomposed)).toBe(4);
  });

  it('counts Portuguese text as it reads', () => {
    expect(countGraphemes('Olá, turma! Amanhã é prova de Ciências.')).toBe(39);
    expect(graphemes('pão')).toEqual(['p', 'ã', 'o']);
    expect(countGraphemes('')).toBe(0);
    expect(countGraphemes('linha um\nlinha dois')).toBe(19);
  });
});

describe('textBudget', () => {
  it('is ok far from the limit, counting characters and bytes apart', () => {
    expect(textBudget('Olá ' + FAMILY, 100)).toEqual({ chars: 5, bytes: 23, state: 'ok', left: 77, excess: 0 });
    expect(textBudget('', 100)).toEqual({ chars: 0, bytes: 0, state: 'ok', left: 100, excess: 0 });
  });

  it('says how many characters are left near the limit, like the ones typed', () => {
    // plain letters: one byte each
    expect(textBudget('a'.repeat(85), 100)).toMatchObject({ state: 'near', left: 15 });
    // accented letters: still one byte each for most of the text
    expect(textBudget('ação '.repeat(12), 100)).toMatchObject({ chars: 60, bytes: 84, state: 'near', left: 16 });
    // flags only: eight bytes each
    expect(textBudget(BRAZIL.repeat(10), 100)).toMatchObject({ chars: 10, bytes: 80, state: 'near', left: 2 });
    // exactly at the limit: it still goes
    expect(textBudget('a'.repeat(100), 100)).toMatchObject({ state: 'near', left: 0, excess: 0 });
  });

  it('over the byte limit, says how many characters from the end must go', () => {
    expect(textBudget('a'.repeat(103), 100)).toMatchObject({ chars: 103, state: 'over', excess: 3 });
    // one emoji sequence puts it over: removing it (one character) is enough
    expect(textBudget('a'.repeat(90) + FAMILY, 100)).toMatchObject({ chars: 91, bytes: 108, state: 'over', excess: 1 });
    expect(textBudget(FAMILY + FAMILY, 20)).toMatchObject({ chars: 2, state: 'over', excess: 1 });
  });
});

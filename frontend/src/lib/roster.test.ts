import { describe, expect, it } from 'vitest';
import { ROSTER_MAX, checkRoster, foldName, nameMatches, parseRoster } from './roster';

describe('foldName', () => {
  it('drops accents and case and collapses spaces', () => {
    expect(foldName('  João   da SILVA ')).toBe('joao da silva');
    expect(foldName('Conceição Aragão')).toBe('conceicao aragao');
    expect(foldName('ÉLISE Müller')).toBe('elise muller');
    // a precomposed and a decomposed "é" are the same letter
    expect(foldName('Jos\u00e9')).toBe(foldName('Jose\u0301'));
  });
});

describe('nameMatches', () => {
  it('finds a part of the name, accents and case aside', () => {
    expect(nameMatches('João Silva', 'joao')).toBe(true);
    expect(nameMatches('João Silva', 'SILV')).toBe(true);
    expect(nameMatches('Joana', 'joão')).toBe(false);
    expect(nameMatches('Conceição', 'ceica')).toBe(true);
    expect(nameMatches('Bruno', 'ana')).toBe(false);
  });
  it('matches everyone with an empty query', () => {
    expect(nameMatches('Bruno', '')).toBe(true);
    expect(nameMatches('Bruno', '   ')).toBe(true);
  });
});

describe('parseRoster', () => {
  it('reads one name per line, trimmed, in order', () => {
    expect(parseRoster('Ana\n  Bruno Costa \r\nCarla\rDavi')).toEqual(['Ana', 'Bruno Costa', 'Carla', 'Davi']);
  });
  it('skips empty lines and repeats, accents and case aside', () => {
    expect(parseRoster('Ana\n\n   \nJoão\nJOAO\nana\nJoão  Pedro\njoão pedro')).toEqual(['Ana', 'João', 'João Pedro']);
  });
  it('drops list numbers and bullets, and tabs from a spreadsheet', () => {
    expect(parseRoster('1. Ana\n2) Bruno\n3 Carla\n- Davi\n• Elisa\n* Fábio\nGabi\tLima')).toEqual(['Ana', 'Bruno', 'Carla', 'Davi', 'Elisa', 'Fábio', 'Gabi Lima']);
  });
  it('cuts names to 32 characters and the list to ROSTER_MAX names', () => {
    const long = 'Maria ' + 'x'.repeat(40);
    expect(parseRoster(long)).toEqual([long.slice(0, 32)]);
    const many = Array.from({ length: ROSTER_MAX + 20 }, (_, i) => `Aluno ${i}`).join('\n');
    const r = parseRoster(many);
    expect(r).toHaveLength(ROSTER_MAX);
    expect(r[0]).toBe('Aluno 0');
  });
  it('gives nothing for empty text', () => {
    expect(parseRoster('')).toEqual([]);
    expect(parseRoster('\n \n')).toEqual([]);
  });
});

describe('checkRoster', () => {
  it('splits the class list into who is here and who is not, accents and case aside', () => {
    const roster = ['Ana', 'João Silva', 'Conceição', 'Davi', 'Elisa'];
    expect(checkRoster(roster, ['Teacher', 'ana', 'joao  silva', 'CONCEICAO'])).toEqual({
      here: ['Ana', 'João Silva', 'Conceição'],
      missing: ['Davi', 'Elisa'],
    });
  });
  it('needs the whole name: a first name alone is not the student', () => {
    expect(checkRoster(['João Silva'], ['João'])).toEqual({ here: [], missing: ['João Silva'] });
  });
  it('with no one present, everyone is missing', () => {
    expect(checkRoster(['Ana', 'Bruno'], [])).toEqual({ here: [], missing: ['Ana', 'Bruno'] });
  });
});

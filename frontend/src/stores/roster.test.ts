import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { MemStorage } from '../lib/testing/fakes';
import { loadRoster, roster, saveRoster } from './roster';


describe('the class list on this device', () => {
  it('is kept per host id', () => {
    const s = new MemStorage();
    saveRoster('h-1', ['Ana', 'Bruno'], s);
    saveRoster('h-2', ['Carla'], s);
    expect(loadRoster('h-1', s)).toEqual(['Ana', 'Bruno']);
    expect(loadRoster('h-2', s)).toEqual(['Carla']);
    expect(loadRoster('h-3', s)).toEqual([]);
    expect(s.getItem('lanchat.roster.h-1')).toBe('["Ana","Bruno"]');
  });
  it('an empty list is forgotten', () => {
    const s = new MemStorage();
    saveRoster('h-1', ['Ana'], s);
    saveRoster('h-1', [], s);
    expect(s.length).toBe(0);
  });
  it('reads what is unreadable or odd as no list, and cleans what it reads', () => {
    const s = new MemStorage();
    s.setItem('lanchat.roster.h-1', '{nope');
    expect(loadRoster('h-1', s)).toEqual([]);
    s.setItem('lanchat.roster.h-1', '{"a":1}');
    expect(loadRoster('h-1', s)).toEqual([]);
    s.setItem('lanchat.roster.h-1', '["Ana", 3, "ana", " Bruno "]');
    expect(loadRoster('h-1', s)).toEqual(['Ana', 'Bruno']);
  });
  it('as a store, starts from what is kept and keeps what is set', () => {
    const s = new MemStorage();
    saveRoster('h-store', ['Ana'], s);
    const r = roster('h-store', s);
    expect(get(r)).toEqual(['Ana']);
    r.set(['Ana', 'Bruno']);
    expect(loadRoster('h-store', s)).toEqual(['Ana', 'Bruno']);
    r.update((v) => [...v, 'Carla']);
    expect(loadRoster('h-store', s)).toEqual(['Ana', 'Bruno', 'Carla']);
    expect(roster('h-store', s)).toBe(r);
  });
});

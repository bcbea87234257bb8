import { describe, expect, it } from 'vitest';
import type { MessageEntry } from '../lib/client';
import type { Member } from '../lib/protocol';
import { canDelete, canExport, isModerator, memberActions, postBlock, slowChoices, slowRemaining } from './controls';

const host: Member = { id: 'm-h', name: 'Teacher', role: 'host' };
const cohost: Member = { id: 'm-c', name: 'Helper', role: 'cohost' };
const cohost2: Member = { id: 'm-c2', name: 'Helper 2', role: 'cohost' };
const guest: Member = { id: 'm-g', name: 'Ana' };
const other: Member = { id: 'm-o', name: 'Bruno' };
const muted: Member = { ...guest, muted: true };

function msg(from: Member, extra: Partial<MessageEntry> = {}): MessageEntry {
  return { kind: 'message', key: 'm:1', room: 'general', seq: 4, epoch: 0, id: 'x1', from, text: 'hi', ts: 0, own: false, state: 'sent', ...extra };
}

describe('host controls', () => {
  it('knows who moderates', () => {
    expect([host, cohost, guest, undefined].map(isModerator)).toEqual([true, true, false, false]);
  });

  it.each([
    ['guest, open room', guest, {}, undefined],
    ['guest, locked', guest, { locked: true }, 'locked'],
    ['guest, announcements (sent as locked too)', guest, { locked: true, announcements: true }, 'announcements'],
    ['muted guest, open room', muted, {}, 'muted'],
    ['muted guest, locked: muted comes first', muted, { locked: true }, 'muted'],
    ['host, announcements', host, { locked: true, announcements: true }, undefined],
    ['co-host, locked', cohost, { locked: true }, undefined],
    ['muted co-host still posts', { ...cohost, muted: true }, { locked: true }, undefined],
    ['not welcomed yet', undefined, { locked: true }, undefined],
  ] as const)('postBlock: %s', (_, me, room, want) => {
    expect(postBlock(me, room)).toBe(want);
  });

  it('blocks the composer of a member the host removed', () => {
    expect(postBlock(guest, {}, { kind: 'refused', code: 'banned' })).toBe('banned');
    expect(postBlock(muted, { locked: true }, { kind: 'refused', code: 'kicked' })).toBe('kicked');
    expect(postBlock(guest, {}, { kind: 'refused', code: 'name_taken' })).toBeUndefined();
    expect(postBlock(guest, {}, { kind: 'waiting', attempt: 1, retryAt: 0 })).toBeUndefined();
    expect(postBlock(guest, { locked: true }, { kind: 'online' })).toBe('locked');
  });

  it('lets moderators delete any stored message and others only their own', () => {
    expect(canDelete(host, msg(guest))).toBe(true);
    expect(canDelete(cohost, msg(host))).toBe(true);
    expect(canDelete(guest, msg(guest, { own: true }))).toBe(true);
    expect(canDelete(guest, msg(other))).toBe(false);
    // own, but from an earlier connection (another member id): the host would refuse
    expect(canDelete(guest, msg({ ...guest, id: 'm-old' }, { own: true }))).toBe(false);
    expect(canDelete(host, msg(guest, { deleted: true }))).toBe(false);
    expect(canDelete(host, msg(guest, { seq: undefined, state: 'pending' }))).toBe(false);
    expect(canDelete(guest, msg(guest, { own: true, state: 'failed' }))).toBe(false);
    expect(canDelete(undefined, msg(guest))).toBe(false);
  });

  it('offers member actions by role', () => {
    const all = { mute: true, kick: true, ban: true, cohost: true };
    const noCohost = { ...all, cohost: false };
    const none = { mute: false, kick: false, ban: false, cohost: false };
    expect(memberActions(host, guest)).toEqual(all);
    expect(memberActions(host, cohost)).toEqual(all);
    expect(memberActions(host, host)).toEqual(none);
    expect(memberActions(cohost, guest)).toEqual(noCohost);
    expect(memberActions(cohost, cohost2)).toEqual(none);
    expect(memberActions(cohost, host)).toEqual(none);
    expect(memberActions(cohost, cohost)).toEqual(none);
    expect(memberActions(guest, other)).toEqual(none);
    expect(memberActions(undefined, other)).toEqual(none);
  });

  it('offers slow-mode choices, keeping a value set elsewhere', () => {
    expect(slowChoices(0)).toEqual([0, 10, 30, 60]);
    expect(slowChoices(30)).toEqual([0, 10, 30, 60]);
    expect(slowChoices(120)).toEqual([0, 10, 30, 60, 120]);
    expect(slowChoices(5)).toEqual([0, 5, 10, 30, 60]);
  });

  it('counts the slow-mode wait in whole seconds', () => {
    expect(slowRemaining(undefined, 5000, 10)).toBe(0);
    expect(slowRemaining(1000, 1000, 10)).toBe(10);
    expect(slowRemaining(1000, 1001, 10)).toBe(10);
    expect(slowRemaining(1000, 10_000, 10)).toBe(1);
    expect(slowRemaining(1000, 11_000, 10)).toBe(0);
    expect(slowRemaining(1000, 2000, 0)).toBe(0);
  });

  it('offers the transcript export only in the desktop app, to its host', () => {
    expect(canExport('desktop', true, host)).toBe(true);
    expect(canExport('desktop', true, cohost)).toBe(false);
    expect(canExport('desktop', false, host)).toBe(false);
    expect(canExport('browser', true, host)).toBe(false);
    expect(canExport('desktop', true, undefined)).toBe(false);
  });
});

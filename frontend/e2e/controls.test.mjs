// Browser end-to-end tests of the host controls: a teacher in the desktop
// app (the Wails bindings stood in for, with the real host token that
// `lanchat serve --host-token-file` made) and students in browsers, through
// a real `lanchat serve`. run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, openRoom, send } from './harness.mjs';

const PORT = 47892;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'controls-'));
const TOKEN_FILE = join(DATA, 'host-token');
const LOG = 'server-controls.log';

let server;
let browser;
let token;
const u = {};

function startServer() {
  return harness.startServer({ addr: ADDR, name: 'Sala 20', data: DATA, rooms: 'general,projects', extra: ['--host-token-file', TOKEN_FILE], log: LOG });
}


async function student(name, context) {
  context ??= await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const s = harness.track(name, context, page);
  await page.goto(BASE);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Your name').press('Enter');
  await online(s);
  return s;
}


function message(x, text) {
  return x.page.locator('[data-testid=message]', { has: x.page.locator('.body', { hasText: text }) });
}

function member(x, name) {
  return x.page.locator('[data-testid=members] li', { has: x.page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
}

/** actions opens the "⋯" menu of a row of x's member list (label: its name's start in x's language) and returns it. */
async function actions(x, name, label = 'Actions for') {
  const menu = x.page.getByRole('menu', { name: `${label} ${name}` });
  if (!(await menu.isVisible())) await member(x, name).getByRole('button', { name: `${label} ${name}` }).click();
  await menu.waitFor();
  return menu;
}

/** closeMenu closes an open member menu with Escape. */
async function closeMenu(x) {
  await x.page.keyboard.press('Escape');
  await x.page.getByRole('menu').waitFor({ state: 'detached' });
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, name + '.png') });
}

async function roomControls(x) {
  const panel = x.page.locator('#room-controls');
  if (!(await panel.isVisible())) await x.page.getByRole('button', { name: 'Room controls' }).click();
  await panel.waitFor();
  return panel;
}

before(async () => {
  server = await startServer();
  // serve made the token file, owner-only; the desktop side reads it, nothing else carries it
  assert.equal(statSync(TOKEN_FILE).mode & 0o777, 0o600);
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
  assert.ok(!readFileSync(join(OUT, LOG), 'utf8').includes(token), 'the host token is never logged');
});

test('the host sees the controls; a guest sees none of them', async () => {
  u.teacher = await harness.teacher(browser, ADDR, token);
  u.ana = await student('Ana');
  u.bruno = await student('Bruno');
  for (const x of [u.teacher, u.ana, u.bruno]) await openRoom(x, 'general');
  await member(u.teacher, 'Ana').waitFor();
  await member(u.teacher, 'Bruno').waitFor();
  await member(u.ana, 'Teacher').locator('.role', { hasText: 'host' }).waitFor();

  const tp = u.teacher.page;
  const menu = await actions(u.teacher, 'Ana');
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), [
    'Message privately',
    'Mute',
    'Make co-host',
    'Remove from the chat…',
    'Ban for this session…',
  ]);
  await closeMenu(u.teacher);
  assert.equal(await member(u.teacher, 'Teacher').locator('button').count(), 0, 'no actions on oneself');
  await tp.locator('[data-testid=new-room]').waitFor();
  await tp.locator('[data-testid=export-menu] summary', { hasText: 'Export transcript' }).waitFor();
  await tp.locator('[data-testid=export-menu] summary', { hasText: 'Export all rooms' }).waitFor();
  await roomControls(u.teacher);
  await shot(u.teacher, '20-host-controls');
  await axe(u.teacher, 'the host view with the room controls open');
  await tp.keyboard.press('Escape');
  await tp.locator('#room-controls').waitFor({ state: 'detached' });

  const ap = u.ana.page;
  await send(u.bruno, 'hello from Bruno');
  await message(u.ana, 'hello from Bruno').waitFor();
  // a guest may only message someone privately: no mute, remove, ban or co-host
  assert.deepEqual(await (await actions(u.ana, 'Bruno')).getByRole('menuitem').allTextContents(), ['Message privately']);
  await closeMenu(u.ana);
  for (const [what, loc] of [
    ['room controls', ap.getByRole('button', { name: 'Room controls' })],
    ['class list', ap.getByRole('button', { name: 'Class list' })],
    ['new room form', ap.locator('[data-testid=new-room]')],
    ['transcript export', ap.locator('[data-testid=export-menu]')],
    ['delete on another person’s message', message(u.ana, 'hello from Bruno').getByRole('button', { name: /^Delete/ })],
  ]) {
    assert.equal(await loc.count(), 0, `a guest sees no ${what}`);
  }
  await shot(u.ana, '21-guest-view');
  await axe(u.ana, 'the guest view');
});

test('a locked room: a student sees the composer off and cannot post; the host still can', async () => {
  const panel = await roomControls(u.teacher);
  await panel.getByRole('button', { name: 'Lock room' }).click();
  await panel.getByRole('button', { name: 'Unlock room' }).waitFor();
  const ap = u.ana.page;
  await ap.locator('[data-testid=room-flags] [data-flag=locked]').waitFor();
  await ap.locator('[data-testid=composer-blocked][data-reason=locked]', { hasText: 'The host locked this room' }).waitFor();
  assert.equal(await ap.locator('#composer').isDisabled(), true);
  assert.equal(await ap.getByRole('button', { name: 'Send' }).isDisabled(), true);
  assert.equal(await ap.locator('button[data-room=general] .flag').count(), 1, 'the room list marks it');
  // and the conversation says so where it happened
  await ap.locator('[data-testid=notice][data-event=locked]', { hasText: 'The host locked this room: only hosts write here for now.' }).waitFor();
  await send(u.teacher, 'quiet please, test starts');
  await message(u.ana, 'quiet please, test starts').waitFor();
  await shot(u.ana, '22-locked-room-guest');
  await axe(u.ana, 'a locked room, as a guest');

  await panel.getByRole('button', { name: 'Unlock room' }).click();
  await ap.locator('[data-testid=composer-blocked]').waitFor({ state: 'detached' });
  await ap.locator('[data-testid=notice][data-event=unlocked]').waitFor();
  assert.equal(await ap.locator('#composer').isDisabled(), false);
});

test('slow mode shows in the room and in the composer', async () => {
  const panel = await roomControls(u.teacher);
  await panel.getByLabel('Slow mode').selectOption('10');
  const ap = u.ana.page;
  await ap.locator('[data-testid=room-flags] [data-flag=slow]', { hasText: 'Slow mode: 10 s' }).waitFor();
  await ap.locator('[data-testid=notice][data-event=slow]', { hasText: 'Slow mode: one message every 10 s each.' }).waitFor();
  await ap.locator('[data-testid=composer-slow]', { hasText: 'one message every 10 s' }).waitFor();
  await send(u.ana, 'slow one');
  await message(u.teacher, 'slow one').waitFor();
  await ap.locator('[data-testid=composer-slow]', { hasText: 'you can write again in' }).waitFor();
  await panel.getByLabel('Slow mode').selectOption('0');
  await ap.locator('[data-testid=room-flags] [data-flag=slow]').waitFor({ state: 'detached' });
  await ap.locator('[data-testid=composer-slow]').waitFor({ state: 'detached' });
  await u.teacher.page.keyboard.press('Escape');
});

test('a muted student is marked and cannot write until unmuted', async () => {
  await (await actions(u.teacher, 'Ana')).getByRole('menuitem', { name: 'Mute' }).click();
  await member(u.teacher, 'Ana').locator('[data-testid=muted]').waitFor();
  await member(u.bruno, 'Ana').locator('[data-testid=muted]').waitFor();
  const ap = u.ana.page;
  await ap.locator('[data-testid=composer-blocked][data-reason=muted]', { hasText: 'The host has muted you' }).waitFor();
  assert.equal(await ap.locator('#composer').isDisabled(), true);
  await shot(u.teacher, '23-muted-member');
  await (await actions(u.teacher, 'Ana')).getByRole('menuitem', { name: 'Unmute' }).click();
  await ap.locator('[data-testid=composer-blocked]').waitFor({ state: 'detached' });
  await member(u.teacher, 'Ana').locator('[data-testid=muted]').waitFor({ state: 'detached' });
});

test('deleted messages become tombstones for everyone, also after a reload', async () => {
  await send(u.ana, 'the answer is 42 (oops)');
  const onTeacher = message(u.teacher, 'the answer is 42 (oops)');
  await onTeacher.waitFor();
  await onTeacher.hover();
  await onTeacher.getByRole('button', { name: 'Delete the message from Ana' }).click();
  // it asks first, with the focus on the confirmation; Escape keeps the message
  const yes = onTeacher.getByRole('button', { name: 'Delete for everyone' });
  await yes.waitFor();
  assert.equal(await yes.evaluate((b) => b === document.activeElement), true, 'the confirmation has the focus');
  await u.teacher.page.keyboard.press('Escape');
  await yes.waitFor({ state: 'detached' });
  assert.equal(await onTeacher.getByRole('button', { name: 'Delete the message from Ana' }).evaluate((b) => b === document.activeElement), true, 'the focus is back');
  assert.equal(await message(u.ana, 'the answer is 42 (oops)').count(), 1, 'nothing deleted yet');
  await u.teacher.page.keyboard.press('Enter'); // the delete button again
  await yes.waitFor();
  assert.equal(await yes.evaluate((b) => b === document.activeElement), true, 'the confirmation has the focus again');
  await u.teacher.page.keyboard.press('Enter'); // deletes
  for (const x of [u.teacher, u.ana, u.bruno]) {
    await x.page.locator('[data-testid=message][data-deleted=true]', { hasText: 'This message was deleted.' }).first().waitFor();
    assert.equal(await message(x, 'the answer is 42').count(), 0, `${x.name} no longer sees the text`);
  }
  // everyone may delete their own message
  await send(u.bruno, 'typo mesage');
  const own = message(u.bruno, 'typo mesage');
  await own.locator('xpath=self::*[@data-state="sent"]').waitFor();
  await own.hover();
  await own.getByRole('button', { name: 'Delete your message' }).click();
  await own.getByRole('button', { name: 'Delete for everyone' }).click();
  await message(u.ana, 'typo mesage').waitFor({ state: 'detached' });
  await u.ana.page.locator('[data-testid=message][data-deleted=true]').nth(1).waitFor();
  await shot(u.ana, '24-tombstones');

  await u.ana.page.reload();
  await online(u.ana);
  await openRoom(u.ana, 'general');
  await message(u.ana, 'quiet please, test starts').waitFor();
  assert.equal(await u.ana.page.locator('[data-testid=message][data-deleted=true]').count(), 2, 'the history keeps both tombstones');
  assert.equal(await message(u.ana, 'the answer is 42').count(), 0);
  assert.equal(await message(u.ana, 'typo mesage').count(), 0);
});

test('the host creates an announcements room: everyone reads, only hosts write', async () => {
  const tp = u.teacher.page;
  await tp.getByLabel('New room').fill('avisos');
  await tp.getByLabel('Announcements room (only hosts write)').check();
  await tp.locator('[data-testid=new-room]').getByRole('button', { name: 'Create' }).click();
  await tp.locator('button[data-room=avisos][aria-current=true]').waitFor();
  await tp.locator('[data-testid=room-flags] [data-flag=announcements]').waitFor();
  await send(u.teacher, 'Exam on Friday.');
  await message(u.teacher, 'Exam on Friday.').locator('xpath=self::*[@data-state="sent"]').waitFor();
  const ap = u.ana.page;
  await openRoom(u.ana, 'avisos');
  await message(u.ana, 'Exam on Friday.').waitFor();
  await ap.locator('[data-testid=composer-blocked][data-reason=announcements]').waitFor();
  assert.equal(await ap.locator('#composer').isDisabled(), true);
  const panel = await roomControls(u.teacher);
  assert.equal(await panel.getByRole('button', { name: /Lock room|Unlock room/ }).count(), 0, 'an announcements room stays locked');
  await tp.keyboard.press('Escape');
  await shot(u.ana, '25-announcements-guest');
  await openRoom(u.ana, 'general');
  await openRoom(u.teacher, 'general');
});

test('a co-host moderates guests but not the host, and names no co-hosts', async () => {
  await (await actions(u.teacher, 'Ana')).getByRole('menuitem', { name: 'Make co-host' }).click();
  await member(u.bruno, 'Ana').locator('.role', { hasText: 'co-host' }).waitFor();
  const ap = u.ana.page;
  await ap.getByRole('button', { name: 'Room controls' }).waitFor();
  // only the host names co-hosts
  assert.deepEqual(await (await actions(u.ana, 'Bruno')).getByRole('menuitem').allTextContents(), [
    'Message privately',
    'Mute',
    'Remove from the chat…',
    'Ban for this session…',
  ]);
  await closeMenu(u.ana);
  assert.deepEqual(await (await actions(u.ana, 'Teacher')).getByRole('menuitem').allTextContents(), ['Message privately'], 'nothing against the host');
  await closeMenu(u.ana);
  await ap.getByText('As a co-host you can mute, remove and ban guests').waitFor();
  await shot(u.ana, '27-cohost-view');
  await axe(u.ana, 'the co-host view');
  await (await actions(u.teacher, 'Ana')).getByRole('menuitem', { name: 'End co-host' }).click();
  await ap.getByRole('button', { name: 'Room controls' }).waitFor({ state: 'detached' });
  assert.deepEqual(await (await actions(u.ana, 'Bruno')).getByRole('menuitem').allTextContents(), ['Message privately']);
  await closeMenu(u.ana);
});

test('the host renames and closes a room', async () => {
  await openRoom(u.teacher, 'projects');
  await openRoom(u.bruno, 'projects');
  const panel = await roomControls(u.teacher);
  await panel.getByLabel('New name').fill('robotics');
  await panel.getByLabel('New name').press('Enter');
  await u.bruno.page.locator('button[data-room=robotics][aria-current=true]').waitFor();
  await u.bruno.page.locator('[data-testid=notice]', { hasText: 'The room is now called robotics.' }).waitFor();
  // the teacher's own view has the new name too before the teacher acts on it
  await u.teacher.page.locator('button[data-room=robotics][aria-current=true]').waitFor();
  const again = await roomControls(u.teacher);
  await again.getByRole('button', { name: 'Close room…' }).click();
  // the confirmation takes the focus: Enter confirms
  const yes = again.getByRole('button', { name: 'Close room', exact: true });
  await yes.waitFor();
  assert.equal(await yes.evaluate((b) => b === document.activeElement), true, 'the confirmation has the focus');
  await u.teacher.page.keyboard.press('Enter');
  // whoever was in it is back in the lobby; the room stays in their list as removed, with its notice
  await u.bruno.page.locator('button[data-room=lobby][aria-current=true]').waitFor();
  await u.bruno.page.locator('button[data-room=robotics]', { hasText: 'removed' }).click();
  await u.bruno.page.locator('[data-testid=notice]', { hasText: 'The host closed this room.' }).waitFor();
  await u.ana.page.locator('button[data-room=robotics]').waitFor({ state: 'detached' });
  await openRoom(u.teacher, 'general');
  await openRoom(u.bruno, 'general');
});

test('the desktop host exports a transcript; a browser is not offered one', async () => {
  const tp = u.teacher.page;
  const menu = tp.locator('main [data-testid=export-menu]');
  await menu.locator('summary').click();
  await menu.getByRole('button', { name: 'Markdown (.md)' }).click();
  await tp.locator('[data-testid=toast]', { hasText: 'Transcript saved to /home/teacher/general.md' }).waitFor();
  await menu.locator('.formats').waitFor({ state: 'hidden' });
  const all = tp.locator('nav [data-testid=export-menu]');
  await all.locator('summary').click();
  await all.getByRole('button', { name: 'Web page (.html)' }).click();
  await tp.locator('[data-testid=toast]', { hasText: 'Transcript saved to /home/teacher/all.html' }).waitFor();
  assert.deepEqual(await tp.evaluate(() => window.__calls), [
    ['ExportTranscript', 'general', 'md'],
    ['ExportTranscript', '', 'html'],
  ]);
  assert.equal(await u.ana.page.locator('[data-testid=export-menu]').count(), 0);
});

test('kick and ban: a banned student cannot come back from the same browser', async () => {
  const bp = u.bruno.page;
  await (await actions(u.teacher, 'Bruno')).getByRole('menuitem', { name: 'Remove from the chat…' }).click();
  // removing asks first, with the focus on the confirmation
  const removal = member(u.teacher, 'Bruno').getByRole('button', { name: 'Confirm removal of Bruno from the chat' });
  await removal.waitFor();
  assert.equal(await removal.evaluate((b) => b === document.activeElement), true, 'the confirmation has the focus');
  await removal.click();
  await bp.locator('[data-testid=conn-status][data-status=refused]', { hasText: 'The host removed you from this chat.' }).waitFor();
  await member(u.teacher, 'Bruno').waitFor({ state: 'detached' });
  // the room says the host removed him, not that he lost the connection
  await u.teacher.page.locator('[data-testid=notice]', { hasText: 'The host removed Bruno' }).waitFor();
  assert.equal(await u.teacher.page.locator('[data-testid=notice]', { hasText: 'Bruno lost the connection' }).count(), 0);
  await bp.getByRole('button', { name: 'Join again' }).click();
  await online(u.bruno);
  await openRoom(u.bruno, 'general');

  const row = member(u.teacher, 'Bruno');
  await (await actions(u.teacher, 'Bruno')).getByRole('menuitem', { name: 'Ban for this session…' }).click();
  await row.getByRole('button', { name: 'Confirm ban of Bruno for this session' }).click();
  await bp.locator('[data-testid=conn-status][data-status=refused]', { hasText: 'The host banned you from this chat.' }).waitFor();
  await bp.getByText('You cannot come back while this session lasts.').waitFor();
  assert.equal(await bp.locator('[data-testid=conn-status] button').count(), 0, 'no way back offered');
  await bp.locator('[data-testid=composer-blocked][data-reason=banned]').waitFor();
  assert.equal(await bp.locator('#composer').isDisabled(), true);
  assert.equal(await bp.locator('[data-testid=toast]', { hasText: /banned|removed you/ }).count(), 0, 'said once, in the status line, not again in a toast');
  await shot(u.bruno, '26-banned');

  // the same browser (device) comes back, under its name and under another
  await bp.reload();
  await bp.locator('[data-testid=conn-status][data-status=refused]', { hasText: 'The host banned you from this chat.' }).waitFor();
  await bp.evaluate(() => localStorage.setItem('lanchat.name', 'Bruno Two'));
  await bp.reload();
  await bp.locator('[data-testid=conn-status][data-status=refused]', { hasText: 'The host banned you from this chat.' }).waitFor();
  // another device may still join
  const carla = await student('Carla');
  await openRoom(carla, 'general');
  await member(u.teacher, 'Carla').waitFor();
  await carla.context.close();
  for (const x of [u.teacher, u.ana, u.bruno]) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
});

test('the host controls in Portuguese, in a small laptop window', async () => {
  const tp = u.teacher.page;
  await tp.setViewportSize({ width: 1024, height: 640 });
  await tp.getByLabel('Language').selectOption('pt-BR');
  await tp.getByRole('button', { name: 'Controles da sala' }).click();
  await tp.locator('#room-controls').getByRole('button', { name: 'Trancar sala' }).waitFor();
  await (await actions(u.teacher, 'Ana', 'Ações para')).getByRole('menuitem', { name: 'Silenciar' }).waitFor();
  await shot(u.teacher, '28-host-pt-BR-narrow');
  await axe(u.teacher, 'the host controls in Portuguese');
  await closeMenu(u.teacher);
});

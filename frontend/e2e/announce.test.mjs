// Browser end-to-end tests of pinned messages and announcements: a teacher
// in the desktop app (the Wails bindings stood in for, with the real host
// token) and students in browsers, in English at desktop size and in
// Portuguese on a phone, through a real `lanchat serve` that is restarted
// halfway. run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, online, send } from './harness.mjs';

const PORT = 47914;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'announce-'));
const TOKEN_FILE = join(DATA, 'host-token');

let server;
let browser;
let token;
const u = {};

function startServer() {
  return harness.startServer({ addr: ADDR, name: 'Sala 20', data: DATA, rooms: 'general', extra: ['--host-token-file', TOKEN_FILE], log: 'server-announce.log' });
}

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

async function student(name, { locale = 'en-US', options = {} } = {}) {
  const context = await browser.newContext({ locale, colorScheme: 'light', viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const s = harness.track(name, context, page);
  await page.goto(BASE);
  const field = page.getByLabel(locale === 'pt-BR' ? 'Seu nome' : 'Your name');
  await field.fill(name);
  await field.press('Enter');
  await online(s);
  return s;
}

function message(x, text) {
  return x.page.locator('[data-testid=message]', { has: x.page.locator('.body', { hasText: text }) });
}

function pinned(x) {
  return x.page.locator('[data-testid=pinned]');
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, name + '.png') });
}

before(async () => {
  server = await startServer();
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

test('the host pins a message in the lobby: everyone there sees it at the top, guests cannot pin', async () => {
  u.teacher = await harness.teacher(browser, ADDR, token);
  u.ana = await student('Ana');
  u.bruno = await student('Bruno', { locale: 'pt-BR', options: PHONE });
  await send(u.teacher, 'Exam on Friday: bring a calculator');
  const onTeacher = message(u.teacher, 'Exam on Friday');
  await onTeacher.waitFor();
  await message(u.ana, 'Exam on Friday').waitFor();
  assert.equal(await message(u.ana, 'Exam on Friday').getByRole('button', { name: /^Pin/ }).count(), 0, 'a guest has no pin button');
  assert.equal(await u.ana.page.locator('[data-testid=announce-form]').count(), 0, 'a guest has no announcement form');

  await onTeacher.hover();
  await onTeacher.getByRole('button', { name: 'Pin this message from Teacher at the top of the room' }).click();
  for (const [x, label] of [
    [u.teacher, 'Pinned message'],
    [u.ana, 'Pinned message'],
    [u.bruno, 'Mensagem fixada'],
  ]) {
    const bar = x.page.getByRole('region', { name: label });
    await bar.waitFor();
    assert.match(await bar.innerText(), /Teacher\s*Exam on Friday: bring a calculator/);
  }
  assert.equal(await pinned(u.ana).getByRole('button').count(), 0, 'a guest cannot unpin');
  await pinned(u.teacher).getByRole('button', { name: 'Unpin' }).waitFor();
  await shot(u.ana, '60-pinned-lobby-guest');
  await shot(u.bruno, '61-pinned-lobby-phone-pt');
  await axe(u.ana, 'the lobby with a pinned message');
  await axe(u.bruno, 'the lobby with a pinned message, on a phone, in Portuguese');
});

test('an announcement reaches every member, in any room, with a badge and a toast', async () => {
  // Ana is in the general room now; Bruno stays in the lobby and never joins a room
  await harness.openRoom(u.ana, 'general');
  const form = u.teacher.page.locator('[data-testid=announce-form]');
  await form.getByLabel('Announcement to everyone').fill('Break: back in 10 minutes');
  await message(u.teacher, 'Exam on Friday').hover();
  await shot(u.teacher, '64-host-pin-and-announce');
  await axe(u.teacher, 'the host view with a pin and the announcement form');
  await form.getByRole('button', { name: 'Send to everyone' }).click();
  assert.equal(await form.getByLabel('Announcement to everyone').inputValue(), '', 'the form empties once sent');

  const ap = u.ana.page;
  const bar = ap.getByRole('region', { name: /Announcement/ });
  await bar.waitFor();
  assert.match(await bar.innerText(), /Teacher.*Break: back in 10 minutes/s);
  assert.equal(await ap.locator('[data-testid=announcements-badge]').innerText(), '1 new');
  await ap.locator('[data-testid=toast]', { hasText: 'Announcement from Teacher (Sala 20): Break: back in 10 minutes' }).waitFor();

  const bp = u.bruno.page;
  await bp.getByRole('region', { name: /Aviso/ }).waitFor();
  assert.equal(await bp.locator('[data-testid=announcements-badge]').innerText(), '1 novo');
  await bp.locator('[data-testid=toast]', { hasText: 'Aviso de Teacher (Sala 20): Break: back in 10 minutes' }).waitFor();
  // the phone's menu button counts it as unread
  await bp.locator('[data-testid=menu-unread]').waitFor();
  await shot(u.ana, '62-announcement-guest');
  await shot(u.bruno, '63-announcement-phone-pt');
  await axe(u.ana, 'a room with an announcement');
  await axe(u.bruno, 'an announcement on a phone, in Portuguese');

  // the sender is told it went out, with no bar or badge of their own
  await u.teacher.page.locator('[data-testid=toast]', { hasText: 'Announcement sent to everyone.' }).waitFor();
  assert.equal(await u.teacher.page.locator('[data-testid=toast]', { hasText: 'Break: back in' }).count(), 0);
  assert.equal(await u.teacher.page.locator('[data-testid=announcements]').count(), 0);

  // seen: the bar goes away
  await ap.locator('[data-testid=announcements-seen]').click();
  await ap.locator('[data-testid=announcements]').waitFor({ state: 'detached' });
});

test('a member who connects later, and everyone after a host restart, gets the pin and the announcement', async () => {
  u.carla = await student('Carla');
  await pinned(u.carla).filter({ hasText: 'Exam on Friday' }).waitFor();
  await u.carla.page.locator('[data-testid=announcement]', { hasText: 'Break: back in 10 minutes' }).waitFor();

  await killServer(server);
  server = await startServer();
  for (const x of [u.teacher, u.ana, u.bruno]) await online(x);
  // a reconnect does not bring back what Ana saw, nor toast it again
  assert.equal(await u.ana.page.locator('[data-testid=announcements]').count(), 0);
  u.dani = await student('Dani', { locale: 'pt-BR' });
  await pinned(u.dani).filter({ hasText: 'Exam on Friday' }).waitFor();
  await u.dani.page.locator('[data-testid=announcement]', { hasText: 'Break: back in 10 minutes' }).waitFor();
  await u.dani.page.locator('[data-testid=toast]', { hasText: 'Aviso de Teacher' }).waitFor();

  // unpinned: gone for everyone
  await pinned(u.teacher).getByRole('button', { name: 'Unpin' }).click();
  for (const x of [u.teacher, u.bruno, u.dani]) await pinned(x).waitFor({ state: 'detached' });
  for (const x of Object.values(u)) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
});

test('what a member dismissed stays seen across a reload, opens again from the Announcements button, and a new one raises the badge again', async () => {
  const ap = u.ana.page;
  const bp = u.bruno.page;
  // Bruno, on a phone in Portuguese, dismisses it too (Ana did before the host restarted)
  await bp.getByRole('button', { name: 'Entendi' }).click();
  await bp.locator('[data-testid=announcements]').waitFor({ state: 'detached' });

  // a reload brings the announcement again in the welcome: no bar, no badge, no toast
  for (const x of [u.ana, u.bruno]) {
    await x.page.reload();
    await online(x);
    await x.page.locator('[data-testid=announcements-open]').waitFor({ state: 'attached' }); // the welcome's announcements are in
    assert.equal(await x.page.locator('[data-testid=announcements]').count(), 0, `${x.name}: no bar after a reload`);
    assert.equal(await x.page.locator('[data-testid=announcements-unseen]').count(), 0, `${x.name}: no badge after a reload`);
    assert.equal(await x.page.locator('[data-testid=menu-unread]').count(), 0, `${x.name}: nothing unread after a reload`);
    assert.equal(await x.page.locator('[data-testid=toast]', { hasText: 'Break: back in' }).count(), 0, `${x.name}: no toast after a reload`);
  }

  // at a desk: the button opens the recent ones, the focus on them; Escape closes them and gives the focus back
  const open = ap.getByRole('button', { name: 'Announcements', exact: true });
  await open.click();
  const again = ap.getByRole('region', { name: 'Recent announcements' });
  await again.waitFor();
  assert.match(await again.innerText(), /Teacher.*Break: back in 10 minutes/s);
  assert.equal(await ap.evaluate(() => document.activeElement?.id), 'announcements-title', 'the focus is on the announcements');
  assert.equal(await ap.locator('[data-testid=announcements-badge]').count(), 0, 'nothing new among them');
  await shot(u.ana, '66-announcements-again');
  await axe(u.ana, 'the recent announcements opened again');
  await ap.keyboard.press('Escape');
  await again.waitFor({ state: 'detached' });
  assert.equal(await open.evaluate((b) => b === document.activeElement), true, 'the focus is back on the button');
  await open.click();
  await again.getByRole('button', { name: 'Close' }).click();
  await again.waitFor({ state: 'detached' });

  // on a phone, in Portuguese: the button is in the menu, which closes to show them
  await bp.locator('[data-testid=menu-button]').click();
  const bOpen = bp.locator('#menu-drawer').getByRole('button', { name: 'Avisos', exact: true });
  await bOpen.waitFor();
  await shot(u.bruno, '67-announcements-button-phone-pt');
  await bOpen.click();
  await bp.locator('#menu-drawer.open').waitFor({ state: 'detached' });
  const bAgain = bp.getByRole('region', { name: 'Avisos recentes' });
  await bAgain.waitFor();
  assert.match(await bAgain.innerText(), /Teacher.*Break: back in 10 minutes/s);
  assert.equal(await bp.evaluate(() => document.activeElement?.id), 'announcements-title', 'the focus is on the announcements');
  assert.equal(await bp.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
  await shot(u.bruno, '68-announcements-again-phone-pt');
  await axe(u.bruno, 'the recent announcements opened again, on a phone, in Portuguese');
  await bAgain.getByRole('button', { name: 'Fechar' }).click();
  await bAgain.waitFor({ state: 'detached' });
  assert.equal(await bp.evaluate(() => document.activeElement?.getAttribute('role')), 'log', 'the focus goes to the conversation');

  // a new announcement: the bar and the badges again, for both
  await u.teacher.page.locator('[data-testid=announce-form]').getByLabel('Announcement to everyone').fill('Quiz at 11');
  await u.teacher.page.locator('[data-testid=announce-form]').getByRole('button', { name: 'Send to everyone' }).click();
  await ap.getByRole('region', { name: 'Announcement' }).filter({ hasText: 'Quiz at 11' }).waitFor();
  assert.equal(await ap.locator('[data-testid=announcements-badge]').innerText(), '1 new');
  assert.equal(await ap.getByRole('button', { name: 'Announcements 1 new', exact: true }).count(), 1, 'the button counts it too');
  await shot(u.ana, '69-announcement-new-again');
  await bp.getByRole('region', { name: 'Aviso' }).filter({ hasText: 'Quiz at 11' }).waitFor();
  assert.equal(await bp.locator('[data-testid=announcements-badge]').innerText(), '1 novo');
  await bp.locator('[data-testid=menu-unread]').waitFor();
  assert.doesNotMatch(await bp.locator('[data-testid=announcements]').innerText(), /Break: back in/, 'only the new one is in the bar');

  // not dismissed yet: a reload keeps it new; dismissed, the next reload does not
  await ap.reload();
  await online(u.ana);
  await ap.locator('[data-testid=announcements-badge]', { hasText: '1 new' }).waitFor();
  await ap.getByRole('button', { name: 'Got it' }).click();
  await ap.locator('[data-testid=announcements]').waitFor({ state: 'detached' });
  await ap.reload();
  await online(u.ana);
  await ap.locator('[data-testid=announcements-open]').waitFor();
  assert.equal(await ap.locator('[data-testid=announcements]').count(), 0);
  for (const x of [u.teacher, u.ana, u.bruno]) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
});

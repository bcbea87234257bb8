// Browser end-to-end test of the phone layout (390x844): one header row, the
// menu (rooms and hosts) and who is here as drawers that close on Escape, on a
// tap beside them and after an action taken in them, one at a time, with the
// focus moving in and back; a private message that arrives elsewhere gives a
// toast and a badge on the menu button; the tab title counts unread messages;
// the host serves the favicon and the web app manifest. run.sh starts this
// inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, openRoom, send } from './harness.mjs';

const ADDR = '127.0.0.1:47925';
const BASE = `http://${ADDR}/`;
let server;
let browser;
let ana; // on a phone
let bruno; // at a desk

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 20', data: mkdtempSync(join(TMP, 'phone-')), rooms: 'general,projects', log: 'phone-server.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

/** person signs in from a phone unless told otherwise. */
function person(name, { phone = true, locale = 'en-US' } = {}) {
  return harness.signIn(browser, BASE, name, { phone, locale });
}

function shot(u, name) {
  return u.page.screenshot({ path: join(OUT, `phone-${name}.png`) });
}

/** focusIn waits until the focus is inside the element matching selector. */
function focusIn(u, selector) {
  return u.page.waitForFunction((s) => !!document.activeElement?.closest(s), selector);
}

/** focusOn waits until the focus is on the element matching selector. */
async function focusOn(u, selector) {
  try {
    await u.page.waitForFunction((s) => document.activeElement?.matches(s) === true, selector);
  } catch (e) {
    const where = await u.page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200));
    throw new Error(`the focus is not on ${selector} but on ${where}`, { cause: e });
  }
}

const MENU = '[data-testid=menu-button]';
const WHO = '.mobilebar button[aria-controls=members-panel]';

test('on a phone the page has one header row, and the menu opens, takes the focus and closes', async () => {
  ana = await person('Ana');
  const { page } = ana;
  const menu = page.locator(MENU);
  const drawer = page.locator('#menu-drawer');
  // one row above the room: the menu button, the host, who is here; no room strip, no second button
  await page.locator('.mobilebar', { hasText: 'Sala 20' }).waitFor();
  assert.equal(await page.getByRole('navigation', { name: 'Rooms' }).count(), 0, 'the rooms are in the closed menu');
  assert.equal(await page.getByRole('button', { name: /^Who is here/ }).count(), 1, 'one button for who is here');
  const bar = await page.locator('.mobilebar').boundingBox();
  const room = await page.locator('#room-title').boundingBox();
  assert.ok(bar && room && room.y >= bar.y + bar.height, 'the room starts below the bar');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
  await shot(ana, '01-closed-en');
  await axe(ana, 'the phone layout');

  // open: the focus goes to the room on screen, in the drawer
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await drawer.getByRole('navigation', { name: 'Rooms' }).waitFor();
  await drawer.getByLabel('Language').waitFor();
  await focusOn(ana, '#menu-drawer button[data-room=lobby]');
  await shot(ana, '02-menu-en');
  await axe(ana, 'the menu drawer on a phone');

  // Escape closes it, and the focus is back on the menu button
  await page.keyboard.press('Escape');
  await drawer.waitFor({ state: 'hidden' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await focusOn(ana, MENU);

  // a tap beside the drawer closes it
  await menu.click();
  await focusIn(ana, '#menu-drawer');
  await page.locator('[data-testid=backdrop]').tap({ position: { x: 370, y: 500 } });
  await drawer.waitFor({ state: 'hidden' });
  await focusOn(ana, MENU);
  assert.equal(await page.locator('[data-testid=backdrop]').count(), 0, 'the backdrop goes with the drawer');

  // opening a room from it closes it
  await menu.click();
  await drawer.locator('button[data-room=general]').tap();
  await page.locator('#room-title', { hasText: 'general' }).waitFor();
  await drawer.waitFor({ state: 'hidden' });
  await focusOn(ana, MENU);
  // and picking the host closes it too
  await menu.click();
  await drawer.locator('nav.rail button.host').first().tap();
  await drawer.waitFor({ state: 'hidden' });
  await focusOn(ana, MENU);
});

test('who is here is a drawer too, and only one drawer is open at a time', async () => {
  const { page } = ana;
  const who = page.locator(WHO);
  const panel = page.locator('#members-panel');
  const drawer = page.locator('#menu-drawer');
  await who.click();
  await panel.locator('[data-testid=members]').waitFor();
  await focusIn(ana, '#members-panel');
  assert.equal(await who.getAttribute('aria-expanded'), 'true');
  await shot(ana, '02b-members-en');
  await axe(ana, 'the member drawer on a phone');

  // the menu opens, who is here closes
  await page.locator(MENU).click();
  await drawer.waitFor();
  await panel.locator('[data-testid=members]').waitFor({ state: 'hidden' });
  assert.equal(await who.getAttribute('aria-expanded'), 'false');
  await focusIn(ana, '#menu-drawer');
  // and the other way round
  await who.click();
  await panel.locator('[data-testid=members]').waitFor();
  await drawer.waitFor({ state: 'hidden' });
  assert.equal(await page.locator(MENU).getAttribute('aria-expanded'), 'false');

  await page.keyboard.press('Escape');
  await panel.locator('[data-testid=members]').waitFor({ state: 'hidden' });
  await focusOn(ana, WHO);
  // a tap beside it closes it
  await who.click();
  await focusIn(ana, '#members-panel');
  await page.locator('[data-testid=backdrop]').tap({ position: { x: 30, y: 500 } });
  await panel.locator('[data-testid=members]').waitFor({ state: 'hidden' });
  await focusOn(ana, WHO);
});

test('a private message that arrives elsewhere gives a toast, a badge on the menu and a count in the title', async () => {
  const { page } = ana;
  await page.waitForFunction(() => document.title === 'Sala 20 — lanchat');
  bruno = await person('Bruno', { phone: false });
  await bruno.page.locator('[data-testid=members] li', { hasText: 'Ana' }).waitFor();
  await bruno.page.getByRole('button', { name: 'Actions for Ana' }).click();
  await bruno.page.getByRole('menuitem', { name: 'Message privately' }).click();
  await bruno.page.locator('#room-title', { hasText: 'Private conversation with Ana' }).waitFor();
  await send(bruno, 'are you there?');

  // Ana is in general
  await page.locator('[data-testid=toast]', { hasText: 'New private message from Bruno' }).waitFor();
  await page.locator(`${MENU} [data-testid=menu-unread]`, { hasText: '1' }).waitFor();
  await page.waitForFunction(() => document.title === '(1) Sala 20 — lanchat');
  await shot(ana, '03-private-message-en');
  await axe(ana, 'a toast and the badge on the menu button');

  // read: the count goes
  await page.locator(MENU).click();
  await page.locator('#menu-drawer button[data-room^="@"]').tap();
  await page.locator('#room-title', { hasText: 'Private conversation with Bruno' }).waitFor();
  await page.locator('[data-testid=message] .body', { hasText: 'are you there?' }).waitFor();
  await page.waitForFunction(() => document.title === 'Sala 20 — lanchat');
  assert.equal(await page.locator(`${MENU} [data-testid=menu-unread]`).count(), 0, 'no badge once read');

  // a message in another room counts as well, and is read when opened
  await openRoom(bruno, 'general');
  await send(bruno, 'see the board');
  await page.waitForFunction(() => document.title === '(1) Sala 20 — lanchat');
  await page.locator(MENU).click();
  await page.locator('#menu-drawer button[data-room=general]').tap();
  await page.locator('[data-testid=message] .body', { hasText: 'see the board' }).waitFor();
  await page.waitForFunction(() => document.title === 'Sala 20 — lanchat');

  // starting a private conversation from who is here closes the drawer
  await page.locator(WHO).click();
  await page.locator('#members-panel').getByRole('button', { name: 'Actions for Bruno' }).tap();
  await page.locator('#members-panel').getByRole('menuitem', { name: 'Message privately' }).tap();
  await page.locator('#room-title', { hasText: 'Private conversation with Bruno' }).waitFor();
  await page.locator('#members-panel [data-testid=members]').waitFor({ state: 'hidden' });
  await focusOn(ana, WHO);

  // at a desk, the same message elsewhere is a toast and a count in the title
  await send(ana, 'yes, in general now');
  await bruno.page.locator('[data-testid=toast]', { hasText: 'New private message from Ana' }).waitFor();
  await bruno.page.waitForFunction(() => document.title === '(1) Sala 20 — lanchat');
  await bruno.page.screenshot({ path: join(OUT, 'phone-04-desk-toast-en.png') });
  for (const u of [ana, bruno]) assert.deepEqual(u.pageErrors, [], `${u.name}: no script errors`);
});

test('in Portuguese the phone layout and its menu read well', async () => {
  const carla = await person('Carla', { locale: 'pt-BR' });
  const { page } = carla;
  await page.getByRole('button', { name: /^Quem está aqui/ }).waitFor();
  await shot(carla, '05-closed-pt-BR');
  await axe(carla, 'the phone layout in Portuguese');
  await page.getByRole('button', { name: 'Menu' }).click();
  await focusIn(carla, '#menu-drawer');
  await shot(carla, '06-menu-pt-BR');
  await axe(carla, 'the menu drawer in Portuguese');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: /^Quem está aqui/ }).click();
  await focusIn(carla, '#members-panel');
  await shot(carla, '07-members-pt-BR');
  await carla.context.close();
});

test('the host serves the favicon, the home-screen icons and the manifest', async () => {
  const links = await ana.page.$$eval('link[rel~=icon], link[rel=apple-touch-icon], link[rel=manifest]', (els) => els.map((e) => e.href));
  assert.equal(links.length, 4, 'two icons, the home-screen icon, the manifest');
  const types = {};
  for (const href of links) {
    const r = await fetch(href);
    assert.equal(r.status, 200, href);
    types[new URL(href).pathname] = r.headers.get('content-type');
  }
  assert.deepEqual(types, {
    '/icon-32.png': 'image/png',
    '/icon-192.png': 'image/png',
    '/apple-touch-icon.png': 'image/png',
    '/manifest.webmanifest': 'application/manifest+json',
  });
  const manifest = await (await fetch(BASE + 'manifest.webmanifest')).json();
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.name && manifest.short_name && manifest.theme_color);
  for (const icon of manifest.icons) {
    const r = await fetch(new URL(icon.src, BASE + 'manifest.webmanifest'));
    assert.equal(r.status, 200, icon.src);
    assert.equal(r.headers.get('content-type'), 'image/png', icon.src);
  }
  await ana.context.close();
  await bruno.context.close();
});

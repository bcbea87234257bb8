// Browser end-to-end test of moving around with the keyboard: Tab goes from
// region to region (the hosts, the rooms, the conversation, the composer),
// each list of hosts or rooms is one Tab stop with the arrow keys, Home and
// End inside it, F6 jumps between the regions, and a phone's drawer takes
// the focus when it opens. run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, online } from './harness.mjs';

const ADDR = '127.0.0.1:47915';
const BASE = `http://${ADDR}/`;

let server;
let browser;

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 21', data: mkdtempSync(join(TMP, 'keyboard-')), rooms: 'general,projects,random', log: 'server-keyboard.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

async function person(name, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const x = harness.track(name, context, page);
  await page.goto(BASE);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Your name').press('Enter');
  await online(x);
  return x;
}

/** where says what has the focus: its region and a name for the element. */
function where(x) {
  return x.page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { region: 'none', what: 'body' };
    const region = el.closest('#rail')
      ? 'rail'
      : el.closest('nav.side')
        ? 'rooms'
        : el.closest('main form.composer')
          ? 'composer'
          : el.closest('main')
            ? 'conversation'
            : 'other';
    return { region, what: el.getAttribute('data-room') ?? el.id ?? el.textContent.trim().slice(0, 20), role: el.getAttribute('role') ?? '' };
  });
}

test('Tab goes region by region, each list of rooms or hosts is one stop, and the arrows move inside it', async () => {
  const x = await person('Ana');
  const p = x.page;
  // one Tab stop per list: exactly one host and one room are in the tab order
  assert.equal(await p.locator('#rail .hosts .host[tabindex="0"]').count(), 1);
  assert.equal(await p.locator('nav.side button.room[tabindex="0"]').count(), 1);
  assert.equal(await p.locator('nav.side button.room[tabindex="-1"]').count(), 3);
  assert.equal(await p.locator('nav.side button.room[tabindex="0"]').getAttribute('data-room'), 'lobby', 'the current room is the stop');

  // Tab from the start of the page: the regions come in order, and the room list is passed with one Tab
  await p.locator('#rail .hosts .host').first().focus();
  const seen = [];
  let roomStops = 0;
  for (let i = 0; i < 40; i++) {
    const w = await where(x);
    if (seen.at(-1) !== w.region) seen.push(w.region);
    if (w.region === 'rooms' && /^(lobby|general|projects|random)$/.test(w.what)) roomStops++;
    if (w.region === 'composer') break;
    await p.keyboard.press('Tab');
  }
  const order = seen.filter((r) => ['rail', 'rooms', 'conversation', 'composer'].includes(r));
  assert.deepEqual([...new Set(order)], ['rail', 'rooms', 'conversation', 'composer'], `regions in Tab order: ${seen.join(' → ')}`);
  assert.deepEqual(order, ['rail', 'rooms', 'conversation', 'composer'], 'each region is passed once');
  assert.equal(roomStops, 1, 'the room list is one Tab stop');

  // the arrows move inside the room list; Enter opens the room
  await p.locator('nav.side button.room[data-room=lobby]').focus();
  await p.keyboard.press('ArrowDown');
  assert.equal((await where(x)).what, 'general');
  await p.keyboard.press('ArrowDown');
  assert.equal((await where(x)).what, 'projects');
  await p.keyboard.press('End');
  assert.equal((await where(x)).what, 'random');
  await p.keyboard.press('ArrowDown');
  assert.equal((await where(x)).what, 'random', 'the end of the list stops the focus');
  await p.keyboard.press('Home');
  assert.equal((await where(x)).what, 'lobby');
  await p.keyboard.press('ArrowDown');
  await p.keyboard.press('Enter');
  await p.locator('button[data-room=general][aria-current=true]').waitFor();
  await p.locator('#composer').waitFor();
  // the stop stays on the room last reached
  assert.equal(await p.locator('nav.side button.room[tabindex="0"]').getAttribute('data-room'), 'general');

  // F6 and Shift+F6 jump between the regions
  await p.locator('nav.side button.room[data-room=general]').focus();
  await p.keyboard.press('F6');
  assert.equal((await where(x)).role, 'log', 'F6 from the rooms goes to the conversation');
  await p.keyboard.press('F6');
  assert.equal((await where(x)).what, 'composer');
  await p.keyboard.press('F6');
  assert.equal((await where(x)).region, 'rail');
  await p.keyboard.press('F6');
  assert.deepEqual([(await where(x)).region, (await where(x)).what], ['rooms', 'general']);
  await p.keyboard.press('Shift+F6');
  assert.equal((await where(x)).region, 'rail');
  await p.screenshot({ path: join(OUT, '65-keyboard-focus.png') });
  await axe(x, 'the chat with the keyboard focus in the rail');
  assert.deepEqual(x.pageErrors, []);
  await x.context.close();
});

test('on a phone, opening a drawer moves the focus into it, and Escape gives it back', async () => {
  const x = await person('Bruno', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p = x.page;
  const menu = p.locator('[data-testid=menu-button]');
  await menu.focus();
  await p.keyboard.press('Enter');
  await p.locator('#menu-drawer').waitFor();
  assert.equal(await p.evaluate(() => !!document.activeElement?.closest('#menu-drawer')), true, 'the focus is in the menu drawer');
  // the arrows work in the drawer's room list too
  assert.equal((await where(x)).what, 'lobby');
  await p.keyboard.press('ArrowDown');
  assert.equal((await where(x)).what, 'general');
  await p.keyboard.press('Escape');
  await p.locator('#menu-drawer.open').waitFor({ state: 'detached' });
  assert.equal(await menu.evaluate((b) => b === document.activeElement), true, 'the focus is back on the menu button');
  assert.deepEqual(x.pageErrors, []);
  await x.context.close();
});

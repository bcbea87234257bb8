// Browser end-to-end test of a large room (docs/protocol.md, "Large rooms"):
// a host started with --full-list 3, one person in Chromium and four members
// on plain WebSockets. Past three members the lobby is large: the page shows
// the count, finds people with the search box, can message someone found, and
// gets the whole list back when the room is small again. run.sh starts this
// inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, rawMembers } from './harness.mjs';

const ADDR = '127.0.0.1:47897';
const BASE = `http://${ADDR}/`;
let server;
let browser;
let ana;
let early; // Bruno and Carla, who come while the lobby is small
let late; // Davi and Elisa, who make it large

before(async () => {
  server = await harness.startServer({
    addr: ADDR,
    name: 'Auditório',
    data: mkdtempSync(join(TMP, 'members-')),
    extra: ['--full-list', '3'],
    log: 'members-server.log',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

/** members are the names in the member list (not the search results). */
function listed(page) {
  return page.$$eval('[data-testid=members] li .name', (els) => els.map((e) => e.textContent.trim()));
}

test('a room past --full-list shows its count and finds members by name', async () => {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  ana = { name: 'Ana', context, page, pageErrors: [] };
  page.on('pageerror', (e) => ana.pageErrors.push(String(e)));
  page.setDefaultTimeout(WAIT);
  await page.goto(BASE);
  await page.getByLabel('Your name').fill('Ana');
  await page.getByLabel('Your name').press('Enter');
  await online(ana);
  // alone, the lobby is small: the whole list and its count in the title; the search box filters the list itself
  await page.locator('#members-title', { hasText: '(1)' }).waitFor();
  assert.equal(await page.locator('[data-testid=member-count]').count(), 0);

  // three members: still small, everyone listed
  early = await rawMembers(browser, BASE, ['Bruno Costa', 'Carla Dias']);
  await page.locator('#members-title', { hasText: '(3)' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=members] li').length === 3);
  assert.deepEqual(await listed(page), ['Ana', 'Bruno Costa', 'Carla Dias']);

  // five members, more than three: the lobby is large, and the count tells how many
  late = await rawMembers(browser, BASE, ['Davi Melo', 'Elisa Rocha']);
  await page.locator('[data-testid=member-count]', { hasText: /^5 here$/ }).waitFor();
  // the list holds the hosts, co-hosts and oneself: here only Ana (the guests listed before are gone from it)
  assert.deepEqual(await listed(page), ['Ana']);
  // arrivals in a large room are no lines in the conversation
  assert.equal(await page.locator('[data-testid=notice]', { hasText: /Davi|Elisa/ }).count(), 0);

  const box = page.getByLabel('Find someone in this room');
  await box.fill('carla');
  const results = page.locator('[data-testid=member-results] li');
  await results.filter({ hasText: 'Carla Dias' }).waitFor();
  assert.equal(await results.count(), 1, 'only Carla matches "carla"');
  assert.deepEqual(await listed(page), ['Ana'], 'a search result is not added to the member list');
  await page.screenshot({ path: join(OUT, 'members-01-large-room-search.png') });
  await axe(ana, 'a large room with search results');

  // a miss says so
  await box.fill('zzz');
  await page.locator('[data-testid=member-search-status]', { hasText: 'No one here has “zzz” in their name.' }).waitFor();
  assert.equal(await results.count(), 0);
  // an empty box shows nothing
  await box.fill('');
  await page.waitForFunction(() => !document.querySelector('[data-testid=member-results]'));

  // someone found by search can be messaged privately
  await box.fill('Dias');
  await results.filter({ hasText: 'Carla Dias' }).getByRole('button', { name: 'Actions for Carla Dias' }).click();
  await page.getByRole('menu', { name: 'Actions for Carla Dias' }).getByRole('menuitem', { name: 'Message privately' }).click();
  await page.locator('button[data-room^="@"][aria-current=true]', { hasText: 'Carla Dias' }).waitFor();
  await page.locator('#composer').waitFor();
  // the conversation is named after the other person, never an id
  await page.getByRole('heading', { name: 'Private conversation with Carla Dias', level: 2 }).waitFor();
  // Carla gets the private conversation too
  await early.page.waitForFunction(() => window.__frames['Carla Dias'].some((f) => f.type === 'joined' && f.room.startsWith('@')));
  assert.deepEqual(ana.pageErrors, []);
});

test('a large room that shrinks gets its whole list back', async () => {
  const { page } = ana;
  await page.locator('button[data-room="lobby"]').click();
  await page.locator('[data-testid=member-count]', { hasText: /^5 here$/ }).waitFor();
  // everyone else leaves: at half of --full-list or fewer the room is small again
  await early.close();
  await late.close();
  await page.locator('#members-title', { hasText: '(1)' }).waitFor();
  assert.equal(await page.locator('[data-testid=member-count]').count(), 0);
  assert.equal(await page.locator('[data-testid=member-results]').count(), 0);
  assert.deepEqual(await listed(page), ['Ana']);
  await page.screenshot({ path: join(OUT, 'members-02-small-again.png') });
  assert.deepEqual(ana.pageErrors, []);
});

// Browser end-to-end test of message search: two people, one in English at
// a desk and one in Portuguese on a phone, find messages by words (accents and
// capitals folded) in the rooms they may read, the matched words marked and
// the message's own markup shown as text; a result opens its room at the
// message, loading the older history it needs; another pair's private
// conversation is never found. run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, openRoom, rawMembers, send } from './harness.mjs';

const ADDR = '127.0.0.1:47962';
const BASE = `http://${ADDR}/`;
const TARGET = 'A <b>Prova</b> de sexta vale como avaliação';
const FILLERS = ['F1', 'F2', 'F3', 'F4', 'F5', 'F6'];
const EACH = 20; // a member's burst: 120 messages after the target, more than a join brings (100)

let server;
let browser;
let raw;
let ana; // English, at a desk
let bruno; // Portuguese, on a phone

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 30', data: mkdtempSync(join(TMP, 'search-')), rooms: 'general,projects', log: 'search-server.log' });
  browser = await launchBrowser();
});

after(async () => {
  await raw?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await killServer(server);
});

/** person signs in from a laptop unless told otherwise. */
function person(name, { phone = false, locale = 'en-US' } = {}) {
  return harness.signIn(browser, BASE, name, { phone, locale });
}

function shot(u, name) {
  return u.page.screenshot({ path: join(OUT, `search-${name}.png`) });
}

/** search types a query in the search box (in the menu on a phone) and submits it. */
async function search(u, query) {
  const input = u.page.locator('[data-testid=search-input]');
  const menu = u.page.locator('[data-testid=menu-button]');
  if (!(await input.isVisible()) && (await menu.isVisible())) await menu.click();
  await input.fill(query);
  await input.press('Enter');
  // the heading names this query at once; then the answer replaces "searching"
  await u.page.waitForFunction((q) => document.querySelector('#search-title')?.textContent.includes(`“${q}”`), query);
  await u.page.locator('[data-testid=search-hit], [data-testid=search-none], [data-testid=search-error]').first().waitFor();
}

/** hits are the results on screen: room, seq, the snippet's text and its marked words. */
function hits(u) {
  return u.page.$$eval('[data-testid=search-hit]', (els) =>
    els.map((e) => ({
      room: e.dataset.room,
      seq: Number(e.dataset.seq),
      text: e.querySelector('.snippet').textContent,
      marks: [...e.querySelectorAll('.snippet mark')].map((m) => m.textContent),
      elements: [...e.querySelectorAll('.snippet *')].map((m) => m.tagName.toLowerCase()),
    })),
  );
}

/** focusedMessage waits until the room shows the focused message, on screen, and returns its text. */
async function focusedMessage(u) {
  const m = u.page.locator('[data-testid=message][data-focused=true]');
  await m.waitFor();
  await u.page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=message][data-focused=true]');
    const box = el?.closest('[role=log]');
    if (!el || !box) return false;
    const a = el.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  });
  return (await m.locator('.body').textContent()).trim();
}

test('a message older than what the room shows is found, marked, and opened in its room', async () => {
  ana = await person('Ana');
  await openRoom(ana, 'general');
  await send(ana, TARGET);
  await ana.page.locator('[data-testid=message][data-state=sent]', { hasText: 'vale como' }).waitFor();
  // 120 messages after it, from members without a page (each within its burst)
  raw = await rawMembers(browser, BASE, [...FILLERS, 'Dora', 'Eva']);
  await raw.page.evaluate(
    ({ fillers, each }) => {
      for (const name of fillers) {
        const ws = window.__sockets[name];
        ws.send(JSON.stringify({ type: 'join', room: 'general' }));
        for (let k = 0; k < each; k++) ws.send(JSON.stringify({ type: 'send', room: 'general', client_id: `${name}-${k}`, text: `aula ${name} ${k}` }));
      }
    },
    { fillers: FILLERS, each: EACH },
  );
  await raw.page.waitForFunction(
    ({ fillers, each }) => fillers.every((n) => window.__frames[n].filter((f) => f.type === 'ack').length === each),
    { fillers: FILLERS, each: EACH },
    { timeout: WAIT },
  );
  // Dora and Eva talk privately: no one else may find it
  await raw.page.evaluate(() => {
    const eva = window.__frames.Eva.find((f) => f.type === 'welcome').member.id;
    window.__sockets.Dora.send(JSON.stringify({ type: 'dm', member: eva }));
  });
  await raw.page.waitForFunction(() => window.__frames.Dora.some((f) => f.type === 'joined' && f.room.startsWith('@')));
  await raw.page.evaluate(() => {
    const room = window.__frames.Dora.find((f) => f.type === 'joined' && f.room.startsWith('@')).room;
    window.__sockets.Dora.send(JSON.stringify({ type: 'send', room, client_id: 'd1', text: 'segredo: a prova vazou' }));
  });
  await raw.page.waitForFunction(() => window.__frames.Dora.some((f) => f.type === 'ack'));

  bruno = await person('Bruno', { phone: true, locale: 'pt-BR' });
  await openRoom(bruno, 'general');
  await bruno.page.locator('[data-testid=message]', { hasText: `aula F6 ${EACH - 1}` }).waitFor();
  assert.equal(await bruno.page.locator('[data-testid=message]', { hasText: 'vale como' }).count(), 0, 'the message is older than what joining general brought');

  // accents and capitals do not matter; the markup in the message is text
  await search(bruno, 'AVALIACAO prova');
  await bruno.page.getByRole('heading', { name: 'Mensagens com “AVALIACAO prova”' }).waitFor();
  const found = await hits(bruno);
  assert.deepEqual(found, [{ room: 'general', seq: 1, text: TARGET, marks: ['Prova', 'avaliação'], elements: ['mark', 'mark'] }]);
  await shot(bruno, '01-results-pt-BR');
  await axe(bruno, 'the search results on a phone');
  await bruno.page.locator('[data-testid=search-hit]').click();
  assert.equal(await focusedMessage(bruno), TARGET);
  await bruno.page.locator('button[data-room=general][aria-current=true]').waitFor({ state: 'attached' });
  await shot(bruno, '02-opened-pt-BR');
  // the history between it and what was shown came with it, in order
  const seqs = await bruno.page.$$eval('[data-testid=message]', (els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, Array.from({ length: 1 + FILLERS.length * EACH }, (_, i) => i + 1));
  assert.deepEqual(bruno.pageErrors, []);
});

test('another pair’s private conversation is never found; an empty search says so, in English', async () => {
  await search(ana, 'segredo');
  await ana.page.getByRole('heading', { name: 'Messages with “segredo”' }).waitFor();
  await ana.page.locator('[data-testid=search-none]', { hasText: 'No messages found.' }).waitFor();
  assert.deepEqual(await hits(ana), []);
  // "prova" finds the message in general only, not Dora's
  await search(ana, 'prova');
  assert.deepEqual(
    (await hits(ana)).map((h) => h.room),
    ['general'],
  );
  await axe(ana, 'the search results');
  await shot(ana, '03-results-en');
  await ana.page.locator('[data-testid=search-hit]').click();
  assert.equal(await focusedMessage(ana), TARGET);
  // closing a search goes back to the room
  await search(ana, '"NEAR(');
  await ana.page.locator('[data-testid=search-none]').waitFor();
  await ana.page.locator('[data-testid=search-close]').click();
  await ana.page.locator('#composer').waitFor();
  assert.deepEqual(ana.pageErrors, []);
});

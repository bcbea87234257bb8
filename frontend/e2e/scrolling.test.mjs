// Browser end-to-end tests of how the message list scrolls: it stays on the
// newest message while the user is at the bottom (the window, the room
// controls or the composer changing its size), it stays put while the user
// reads further up and offers a "new messages" button instead, and a room
// opened after messages came while the user was elsewhere shows a line above
// the first unread one and opens there. A teacher in the desktop app (the
// Wails bindings stood in for, with the real host token) and students in
// browsers; the messages come from members on plain WebSockets. run.sh starts
// this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, openRoom, rawMembers, send } from './harness.mjs';

const PORT = 47924;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'scrolling-'));
const TOKEN_FILE = join(DATA, 'host-token');

let server;
let browser;
let token;
let raw; // Bruno, Carla and Davi, who write
const SPEAKERS = ['Bruno Costa', 'Carla Dias', 'Davi Melo'];

before(async () => {
  server = await harness.startServer({
    addr: ADDR,
    name: 'Sala 9',
    data: DATA,
    rooms: 'general,projects',
    extra: ['--host-token-file', TOKEN_FILE],
    log: 'server-scrolling.log',
  });
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  browser = await launchBrowser();
  raw = await rawMembers(browser, BASE, SPEAKERS);
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});



async function student(name, { locale, viewport, mobile = false }) {
  const context = await browser.newContext({ locale, colorScheme: 'light', viewport, isMobile: mobile, hasTouch: mobile });
  const page = await context.newPage();
  const s = harness.track(name, context, page);
  await page.goto(BASE);
  await page.locator('#first-name').fill(name);
  await page.locator('#first-name').press('Enter');
  await online(s);
  return s;
}

/**
 * say has the raw members write texts in a room, taking turns (each message
 * then shows its author), one at a time: each waits for its ack, and one the
 * host refuses for going too fast is sent again once the host allows more.
 */
async function say(room, texts, speakers = SPEAKERS) {
  await raw.page.evaluate(
    async ([room, texts, speakers]) => {
      const until = (cond) =>
        new Promise((resolve) => {
          const poll = () => (cond() ? resolve() : setTimeout(poll, 10));
          poll();
        });
      for (const name of speakers) {
        const frames = window.__frames[name];
        if (frames.some((f) => f.type === 'joined' && f.room === room)) continue;
        window.__sockets[name].send(JSON.stringify({ type: 'join', room }));
        await until(() => frames.some((f) => f.type === 'joined' && f.room === room));
      }
      for (let i = 0; i < texts.length; i++) {
        const name = speakers[i % speakers.length];
        const frames = window.__frames[name];
        for (;;) {
          const from = frames.length;
          const id = `c-${Date.now()}-${i}-${Math.random()}`;
          window.__sockets[name].send(JSON.stringify({ type: 'send', room, client_id: id, text: texts[i] }));
          await until(() => frames.slice(from).some((f) => (f.type === 'ack' && f.client_id === id) || f.type === 'error'));
          if (frames.slice(from).some((f) => f.type === 'ack' && f.client_id === id)) break;
          await new Promise((r) => setTimeout(r, 300)); // rate limited: the bucket refills
        }
      }
    },
    [room, texts, speakers],
  );
}

function numbered(prefix, n) {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);
}

function log(x) {
  return x.page.locator('.scroller[role=log]');
}

function message(x, text) {
  return x.page.locator('[data-testid=message]', { has: x.page.locator('.body', { hasText: new RegExp(`^${text}$`) }) });
}

/** settled: two frames have gone by, so layout and resize observers have run. */
function settled(x) {
  return x.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** atBottom waits until the list shows its end (and has more than fits). */
function atBottom(x) {
  return x.page.waitForFunction(() => {
    const el = document.querySelector('.scroller[role=log]');
    return el && el.scrollHeight > el.clientHeight + 50 && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
  });
}

function scrollTop(x) {
  return log(x).evaluate((el) => el.scrollTop);
}

/** scrollUp puts the view `by` pixels above the bottom. */
async function scrollUp(x, by = 300) {
  await log(x).evaluate((el, by) => (el.scrollTop = el.scrollHeight - el.clientHeight - by), by);
  await settled(x);
}

/** inView: the element is wholly inside the list's visible part. */
function inView(x, locator) {
  return locator.evaluate((el) => {
    const box = el.closest('.scroller').getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  });
}

/** unread waits until the room list shows n unread messages in general. */
function unread(x, n) {
  return x.page.waitForFunction(
    (n) => document.querySelector('button[data-room="general"] [data-testid=unread]')?.firstChild?.textContent.trim() === String(n),
    n,
  );
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, name + '.png') });
}

let t; // the teacher

test('the list stays on the newest message when the window, the room controls or the composer change its size', async () => {
  t = await harness.teacher(browser, ADDR, token);
  await openRoom(t, 'general');
  await say('general', numbered('Before', 40));
  await message(t, 'Before 40').waitFor();
  await atBottom(t);

  // a smaller window
  await t.page.setViewportSize({ width: 1100, height: 600 });
  await atBottom(t);
  assert.ok(await inView(t, message(t, 'Before 40')), 'the newest message shows after the window shrank');

  // the room controls open above the list
  const before = await log(t).evaluate((el) => el.clientHeight);
  await t.page.getByRole('button', { name: 'Room controls' }).click();
  await t.page.locator('#room-controls').waitFor();
  await t.page.waitForFunction((h) => document.querySelector('.scroller[role=log]').clientHeight < h - 60, before);
  await atBottom(t);
  await shot(t, 'scrolling-01-controls-open');
  await t.page.getByRole('button', { name: 'Room controls' }).click();
  await t.page.locator('#room-controls').waitFor({ state: 'detached' });

  // the composer grows to several lines
  const composer = t.page.locator('#composer');
  await composer.fill('one\ntwo\nthree\nfour\nfive\nsix\nseven');
  await composer.evaluate((el) => (el.style.height = el.scrollHeight + 'px'));
  await atBottom(t);
  assert.ok(await inView(t, message(t, 'Before 40')), 'the newest message shows above the taller composer');
  await composer.fill('');
  await composer.evaluate((el) => (el.style.height = ''));

  // a message that takes several lines arrives
  await say('general', ['A long message. '.repeat(60).trim()]);
  await atBottom(t);
  await t.page.setViewportSize({ width: 1280, height: 800 });
  await atBottom(t);
  assert.deepEqual(t.pageErrors, []);
});

test('scrolled up, new messages leave the view where it is and a button counts them', async () => {
  await scrollUp(t);
  const top = await scrollTop(t);
  await say('general', numbered('Later', 3));
  const pill = t.page.getByRole('button', { name: '3 new messages' });
  await pill.waitFor();
  await message(t, 'Later 3').waitFor();
  await settled(t);
  assert.equal(await scrollTop(t), top, 'the view did not move');
  assert.equal(await pill.textContent(), '3 new messages ↓');
  await shot(t, 'scrolling-02-new-messages-button');
  await axe(t, 'the list with the new messages button');

  // the button goes to the newest, and goes away
  await pill.click();
  await atBottom(t);
  await pill.waitFor({ state: 'detached' });
  assert.ok(await inView(t, message(t, 'Later 3')));

  // one message: singular; End in the list goes down
  await scrollUp(t);
  await say('general', ['Just one']);
  const one = t.page.getByRole('button', { name: '1 new message' });
  await one.waitFor();
  await log(t).focus();
  await t.page.keyboard.press('End');
  await atBottom(t);
  await one.waitFor({ state: 'detached' });

  // scrolling down by hand puts it away too
  await scrollUp(t);
  await say('general', ['Two more', 'And the last']);
  const two = t.page.getByRole('button', { name: '2 new messages' });
  await two.waitFor();
  await log(t).evaluate((el) => (el.scrollTop = el.scrollHeight));
  await two.waitFor({ state: 'detached' });

  // what the user sends shows, wherever the view was
  await scrollUp(t);
  await send(t, 'My own message');
  await message(t, 'My own message').waitFor();
  await atBottom(t);
  assert.ok(await inView(t, message(t, 'My own message')));
  assert.deepEqual(t.pageErrors, []);
});

test('back in a room after 30 messages, a line marks the first unread one and the room opens there', async () => {
  await openRoom(t, 'projects');
  await say('general', numbered('Away', 30));
  await unread(t, 30);
  await openRoom(t, 'general');
  const line = t.page.locator('[data-testid=unread-line]');
  await line.waitFor();
  assert.equal(await t.page.locator('[role=separator]', { hasText: 'New messages' }).getAttribute('aria-label'), 'New messages');
  // the line sits right above the first unread message
  const next = await line.evaluate((el) => el.nextElementSibling?.querySelector('.body')?.textContent.trim());
  assert.equal(next, 'Away 1');
  assert.equal(await line.evaluate((el) => el.previousElementSibling?.querySelector('.body')?.textContent.trim()), 'My own message');
  await settled(t);
  assert.ok(await inView(t, message(t, 'Away 1')), 'the first unread message shows');
  assert.ok(await inView(t, line), 'the line shows');
  assert.ok(!(await inView(t, message(t, 'Away 30'))), 'the room opened at the line, not at the bottom');
  // the first unread message shows its author even after another of theirs
  assert.equal(await message(t, 'Away 1').locator('.author').count(), 1);
  await shot(t, 'scrolling-03-unread-line');
  await axe(t, 'a room opened with the new messages line');

  // the line stays while the room is open, and new messages count on the button
  await say('general', ['While here']);
  await t.page.getByRole('button', { name: '1 new message' }).waitFor();
  assert.equal(await line.count(), 1);
  // back again with nothing new: no line, and the room opens at the bottom
  await openRoom(t, 'projects');
  await openRoom(t, 'general');
  await atBottom(t);
  assert.equal(await line.count(), 0);
  assert.deepEqual(t.pageErrors, []);
});

test('few unread messages: the line shows and the room opens at the bottom', async () => {
  await openRoom(t, 'projects');
  await say('general', ['Short one', 'Short two']);
  await unread(t, 2);
  await openRoom(t, 'general');
  const line = t.page.locator('[data-testid=unread-line]');
  await line.waitFor();
  await atBottom(t);
  assert.ok(await inView(t, line));
  assert.equal(await line.evaluate((el) => el.nextElementSibling?.querySelector('.body')?.textContent.trim()), 'Short one');
  await t.context.close();
});

for (const [lang, locale, size, viewport, mobile] of [
  ['en', 'en-US', 'phone', { width: 390, height: 844 }, true],
  ['pt', 'pt-BR', 'desktop', { width: 1280, height: 800 }, false],
  ['pt', 'pt-BR', 'phone', { width: 390, height: 844 }, true],
]) {
  test(`the line and the button in ${locale}, ${size}`, async () => {
    const pt = lang === 'pt';
    const s = await student(pt ? 'Júlia' : 'Eva', { locale, viewport, mobile });
    await openRoom(s, 'general');
    await openRoom(s, 'lobby');
    await say('general', numbered(`${lang}-${size}`, 30));
    await unread(s, 30);
    await openRoom(s, 'general');
    const line = s.page.locator('[data-testid=unread-line]');
    await line.waitFor();
    const label = pt ? 'Novas mensagens' : 'New messages';
    assert.equal(await s.page.locator('[role=separator]').getAttribute('aria-label'), label);
    assert.equal(await line.evaluate((el) => el.nextElementSibling?.querySelector('.body')?.textContent.trim()), `${lang}-${size} 1`);
    await settled(s);
    assert.ok(await inView(s, message(s, `${lang}-${size} 1`)), 'the first unread message shows');
    await shot(s, `scrolling-${lang}-${size}-1-unread-line`);
    await axe(s, `the new messages line, ${locale} ${size}`);

    await scrollUp(s);
    await say('general', ['x', 'y', 'z']);
    const pill = s.page.getByRole('button', { name: pt ? '3 novas mensagens' : '3 new messages' });
    await pill.waitFor();
    await shot(s, `scrolling-${lang}-${size}-2-new-messages-button`);
    await axe(s, `the new messages button, ${locale} ${size}`);
    await pill.click();
    await atBottom(s);
    await scrollUp(s);
    await say('general', ['w']);
    await s.page.getByRole('button', { name: pt ? '1 nova mensagem' : '1 new message' }).waitFor();
    assert.deepEqual(s.pageErrors, []);
    await s.context.close();
  });
}

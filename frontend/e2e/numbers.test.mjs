// Browser end-to-end test of the numbers on screen, each meaning one thing:
// the room list shows unread badges only, the room header shows how many
// people are in the open room (and does not move when either changes), and
// the composer counts characters as the writer sees them while the host's
// limit stays in bytes (a host started with --max-text 40). Ana uses the
// page in English, Bruno in Portuguese. run.sh starts this inside a network
// namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, online, openRoom, send } from './harness.mjs';

const ADDR = '127.0.0.1:47922';
const BASE = `http://${ADDR}/`;
const FAMILY = '👩‍👩‍👧'; // one character, 18 bytes
const MAX = 40; // bytes

let server;
let browser;
const users = {};

before(async () => {
  server = await harness.startServer({
    addr: ADDR,
    name: 'Sala 7',
    data: mkdtempSync(join(TMP, 'numbers-')),
    rooms: 'general,projects,random',
    extra: ['--max-text', String(MAX)],
    log: 'numbers-server.log',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

async function newUser(name, locale, viewport = { width: 1280, height: 800 }, phone = false) {
  const context = await browser.newContext({ locale, colorScheme: 'light', viewport, isMobile: phone, hasTouch: phone });
  const page = await context.newPage();
  const u = harness.track(name, context, page);
  await page.goto(BASE);
  const field = page.locator('input').first();
  await field.waitFor();
  await field.fill(name);
  await field.press('Enter');
  await online(u);
  return u;
}

/** people waits until the open room's header says text (for the screen reader) and shows the number n. */
async function people(u, n, text) {
  const count = u.page.locator(`[data-testid=room-count][data-count="${n}"]`);
  await count.waitFor();
  assert.equal((await count.locator('.sr-only').textContent()).trim(), text);
  assert.equal(await count.getAttribute('title'), text);
  assert.equal((await count.locator('span[aria-hidden=true]').innerText()).trim(), String(n), 'the header shows the number beside the icon');
  assert.equal(await count.locator('svg[aria-hidden=true]').count(), 1, 'a person icon, hidden from screen readers');
}

/** roomListDigits is what the room list says beyond the unread badges: it should hold no numbers. */
function roomListText(u) {
  return u.page.$$eval('ul.rooms button.room', (els) =>
    els.map((b) => {
      const c = b.cloneNode(true);
      c.querySelectorAll('[data-testid=unread]').forEach((x) => x.remove());
      return c.textContent.replace(/\s+/g, ' ').trim();
    }),
  );
}

function headerBox(u) {
  return u.page.locator('section.room > header').boundingBox();
}

function waitMessage(u, text) {
  return u.page.waitForFunction(
    (t) => [...document.querySelectorAll('[data-testid=message]')].some((m) => m.dataset.state === 'sent' && m.querySelector('.body')?.textContent.trim() === t),
    text,
  );
}

async function shot(u, name) {
  await u.page.screenshot({ path: join(OUT, name + '.png') });
}

test('the header counts the people in the open room; the room list has unread badges only', async () => {
  const ana = (users.ana = await newUser('Ana', 'en-US'));
  await openRoom(ana, 'projects');
  await openRoom(ana, 'general');
  await people(ana, 1, '1 person here');
  const before = await headerBox(ana);

  const bruno = (users.bruno = await newUser('Bruno', 'pt-BR'));
  await openRoom(bruno, 'random');
  await people(bruno, 1, '1 pessoa aqui');
  await openRoom(bruno, 'projects');
  await send(bruno, 'oi, projetos');
  // a message in another room: a badge in Ana's room list, and her header stays put
  const badge = ana.page.locator('button[data-room=projects] [data-testid=unread]');
  await badge.waitFor();
  assert.equal((await badge.innerText()).replace(/\s+/g, ' ').trim(), '1 1 unread message', 'the number, and its words for screen readers');
  assert.match(await ana.page.locator('button[data-room=projects]').ariaSnapshot(), /projects 1 unread message"/, 'a screen reader hears the number once');
  assert.deepEqual(await headerBox(ana), before, 'an unread badge does not move the header');

  // someone joins the open room: the count changes, the header does not move
  await openRoom(bruno, 'general');
  await people(ana, 2, '2 people here');
  await people(bruno, 2, '2 pessoas aqui');
  assert.deepEqual(await headerBox(ana), before, 'a new count does not move the header');

  // a mention in the lobby: a badge of its own kind
  await openRoom(bruno, 'lobby');
  await send(bruno, 'Ana, olha o projeto');
  await ana.page.locator('button[data-room=lobby] [data-testid=unread].mention').waitFor();
  assert.deepEqual(await headerBox(ana), before, 'a mention badge does not move the header');

  // no member counts in the room list: names and badges only
  const list = await roomListText(ana);
  assert.ok(list.length >= 4, `all rooms listed: ${list}`);
  for (const r of list) assert.doesNotMatch(r, /\d/, `no number but the badges in the room list: "${r}"`);
  assert.deepEqual(await roomListText(bruno).then((l) => l.filter((r) => /\d/.test(r))), []);

  await shot(ana, 'numbers-01-header-badges-en');
  await axe(ana, 'the header count and room list badges, English');
  await openRoom(bruno, 'general');
  await shot(bruno, 'numbers-02-header-pt-BR');
  await axe(bruno, 'the header count, Portuguese');
});

test('the composer counts what the writer sees and refuses what is over the byte limit', async () => {
  const { ana, bruno } = users;
  const box = ana.page.locator('#composer');
  const counter = ana.page.locator('[data-testid=composer-count]');
  await box.fill(FAMILY);
  await ana.page.locator('[data-testid=composer-count][data-state=ok]', { hasText: /^\s*1 character\s*$/ }).waitFor();

  // near the limit: how many are left (plain letters, one byte each)
  await box.fill('a'.repeat(34));
  await ana.page.locator('[data-testid=composer-count][data-state=near]', { hasText: '6 characters left' }).waitFor();

  // 4 characters and two families: 6 characters, 41 bytes, one over the host's 40
  const long = 'Olá ' + FAMILY + FAMILY;
  await box.fill(long);
  await ana.page.locator('[data-testid=composer-count][data-state=over]', { hasText: '1 character too many' }).waitFor();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.equal(await ana.page.locator('[data-testid=composer-problem]').count(), 0, 'no message before a send');
  await box.press('Enter');
  const problem = ana.page.locator('[data-testid=composer-problem][role=alert]');
  await problem.waitFor();
  assert.equal((await problem.innerText()).trim(), 'The message is too long: remove 1 character to send it. Your text is still here.');
  assert.equal(await box.inputValue(), long, 'the text is kept');
  await ana.page.getByRole('button', { name: 'Send' }).click();
  assert.equal(await box.inputValue(), long, 'the button is refused the same way');
  assert.equal(await ana.page.locator('[data-testid=message]', { hasText: 'Olá' }).count(), 0, 'nothing was sent');
  await shot(ana, 'numbers-03-over-limit-en');
  await axe(ana, 'the composer over the limit, English');

  // one character less and it goes
  await box.press('End');
  await box.press('Backspace');
  assert.equal(await box.inputValue(), 'Olá ' + FAMILY, 'Backspace takes the whole emoji sequence');
  await problem.waitFor({ state: 'detached' });
  await box.press('Enter');
  await waitMessage(bruno, 'Olá ' + FAMILY);
  assert.equal(await box.inputValue(), '');
  assert.equal((await counter.innerText()).trim(), '');

  // in Portuguese
  const pbox = bruno.page.locator('#composer');
  await pbox.fill(FAMILY);
  await bruno.page.locator('[data-testid=composer-count]', { hasText: /^\s*1 caractere\s*$/ }).waitFor();
  await pbox.fill('a'.repeat(35));
  await bruno.page.locator('[data-testid=composer-count]', { hasText: 'restam 5 caracteres' }).waitFor();
  const longer = 'Bom dia ' + FAMILY + ' já é sábado!'; // 42 bytes: two letters too many
  await pbox.fill(longer);
  await bruno.page.locator('[data-testid=composer-count]', { hasText: '2 caracteres a mais' }).waitFor();
  await pbox.press('Enter');
  await bruno.page
    .locator('[data-testid=composer-problem]', { hasText: 'A mensagem está longa demais: apague 2 caracteres para enviar. Seu texto continua aqui.' })
    .waitFor();
  assert.equal(await pbox.inputValue(), longer);
  await shot(bruno, 'numbers-04-over-limit-pt-BR');
  await axe(bruno, 'the composer over the limit, Portuguese');

  for (const u of [ana, bruno]) assert.deepEqual(u.pageErrors, []);
});

test('on a phone the header shows the count, stays put, and the composer counts', async () => {
  const phone = { width: 390, height: 844 };
  const carla = await newUser('Carla', 'en-US', phone, true);
  await openRoom(carla, 'projects');
  await openRoom(carla, 'general');
  await people(carla, 3, '3 people here');
  const before = await headerBox(carla);

  const davi = await newUser('Davi', 'pt-BR', phone, true);
  await openRoom(davi, 'general');
  await people(davi, 4, '4 pessoas aqui');
  await people(carla, 4, '4 people here');
  await openRoom(users.ana, 'projects');
  await send(users.ana, 'for the phones');
  // on a phone the room list is in the menu drawer: the badge is there, and on the menu button
  await carla.page.locator('button[data-room=projects] [data-testid=unread]').waitFor({ state: 'attached' });
  await carla.page.locator('[data-testid=menu-button] [data-testid=menu-unread]').waitFor();
  assert.deepEqual(await headerBox(carla), before, 'on a phone too, badges and counts do not move the header');

  for (const [u, near, locale] of [
    [carla, '4 characters left', 'en'],
    [davi, 'restam 4 caracteres', 'pt-BR'],
  ]) {
    await u.page.locator('#composer').fill('a'.repeat(36));
    await u.page.locator('[data-testid=composer-count]', { hasText: near }).waitFor();
    assert.equal(await u.page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
    await shot(u, `numbers-05-phone-${locale}`);
    await axe(u, `the phone header and composer, ${locale}`);
    assert.deepEqual(u.pageErrors, []);
  }
});

// The course's own chat page (Socket.IO, served by lanchat at /course/) and
// the lanchat web UI, in one room of one host, exchange messages both ways.
// run.sh starts this inside a network namespace of its own.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, TMP, WAIT, killServer, launchBrowser } from './harness.mjs';
import * as harness from './harness.mjs';

const ADDR = '127.0.0.1:47896';
const BASE = `http://${ADDR}/`;

let server;
let browser;

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Aula 4', data: mkdtempSync(join(TMP, 'course-')), log: 'course-server.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

async function page() {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 760 } });
  const p = await context.newPage();
  p.setDefaultTimeout(WAIT);
  const offHost = [];
  p.on('request', (r) => {
    if (!r.url().startsWith(BASE) && !r.url().startsWith(`ws://${ADDR}/`)) offHost.push(r.url());
  });
  const dialogs = [];
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return { p, offHost, dialogs };
}

test('the course page and the lanchat UI chat in one room, both ways', async () => {
  // A lanchat user in room "general".
  const ana = await page();
  await ana.p.goto(BASE);
  await ana.p.getByLabel('Your name').fill('Ana');
  await ana.p.keyboard.press('Enter');
  await ana.p.locator('[data-testid=conn-status][data-status=online]').waitFor();
  await ana.p.locator('button[data-room="general"]').click();
  await ana.p.locator('button[data-room="general"][aria-current=true]').waitFor();

  // The course page, unchanged from the course but for its local script.
  const caio = await page();
  await caio.p.goto(BASE + 'course/');
  await caio.p.locator('#username').fill('Caio');
  await caio.p.locator('#btn-login').click();
  await caio.p.locator('#rooms button[data-room="general"]').click();
  await caio.p.locator('#current-room', { hasText: 'general' }).waitFor();

  // Course page → lanchat UI.
  await caio.p.locator('#input').fill('olá, vim pela página do curso');
  await caio.p.locator('#send').click();
  const fromCaio = ana.p.locator('[data-testid=message]', { hasText: 'olá, vim pela página do curso' });
  await fromCaio.waitFor();
  assert.match(await fromCaio.textContent(), /Caio/);

  // lanchat UI → course page, as the seed's "name: text" line.
  await ana.p.locator('#composer').fill('oi Caio, daqui é o lanchat <b>sem HTML</b>');
  await ana.p.locator('#composer').press('Enter');
  const line = caio.p.locator('#messages li', { hasText: 'Ana: oi Caio, daqui é o lanchat <b>sem HTML</b>' });
  await line.waitFor();

  // Messages stay in their room: a lobby message reaches neither.
  const bia = await page();
  await bia.p.goto(BASE);
  await bia.p.getByLabel('Your name').fill('Bia');
  await bia.p.keyboard.press('Enter');
  await bia.p.locator('[data-testid=conn-status][data-status=online]').waitFor();
  await bia.p.locator('#composer').fill('só no lobby');
  await bia.p.locator('#composer').press('Enter');
  await bia.p.locator('[data-testid=message][data-state=sent]', { hasText: 'só no lobby' }).waitFor();
  await ana.p.locator('#composer').fill('fim');
  await ana.p.locator('#composer').press('Enter');
  await caio.p.locator('#messages li', { hasText: 'Ana: fim' }).waitFor();
  const caioLines = await caio.p.$$eval('#messages li', (els) => els.map((e) => e.textContent));
  assert.ok(!caioLines.some((l) => l.includes('só no lobby')), `the lobby message leaked into general: ${caioLines}`);

  // The course page's unknown-room error still arrives as its alert.
  await caio.p.evaluate(() => {
    const b = document.createElement('button');
    b.dataset.room = 'sala9';
    b.textContent = 'sala9';
    document.getElementById('rooms').appendChild(b);
  });
  await caio.p.locator('#rooms button[data-room="sala9"]').click();
  await caio.p.waitForFunction(() => true);
  const deadline = Date.now() + WAIT;
  while (!caio.dialogs.some((d) => d.includes('sala9')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(caio.dialogs.some((d) => d.includes('sala9')), `no error alert for sala9: ${caio.dialogs}`);

  await caio.p.screenshot({ path: join(OUT, 'course-page.png') });
  await ana.p.screenshot({ path: join(OUT, 'course-lanchat.png') });
  assert.deepEqual(caio.offHost, [], 'the course page loads nothing from outside the host');
  assert.deepEqual(ana.offHost, []);
});

// Browser end-to-end test of failover (docs/protocol.md, "welcome": boxes):
// three `lanchat serve` boxes of one cluster on 127.0.0.1. Ana uses the page
// of box 1 in Chromium, Bruno is a plain WebSocket member on box 3, both in
// general. Box 1 is killed with SIGKILL; without a reload, Ana's page goes on
// at another box with her name, and what she sends then reaches Bruno once,
// shows once on her page with its ack, and Bruno's answer reaches her. run.sh
// starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, killServer, launchBrowser, online, openRoom, rawMembers, send } from './harness.mjs';

/** How long a box may take to answer /api/info: it waits for a majority of the boxes. */
const FORM_WAIT = 60_000;
/** How long the failover may take: the lost box holds Ana's name for about 5 s. */
const FAILOVER_WAIT = 45_000;

let boxes = [];
let browser;
let bruno;

/** freePort asks the kernel for a port nobody listens on. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

before(async () => {
  const ports = [];
  while (ports.length < 6) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const web = ports.slice(0, 3);
  const route = ports.slice(3);
  boxes = web.map((port, i) => ({ addr: `127.0.0.1:${port}`, base: `http://127.0.0.1:${port}/`, route: `127.0.0.1:${route[i]}` }));
  // one secret for the three boxes, as the operator copies it to each
  const secret = join(mkdtempSync(join(TMP, 'failover-secret-')), 'cluster-secret');
  writeFileSync(secret, 'the secret of the failover test cluster\n', { mode: 0o600 });
  // all three at once: none answers before a majority is up
  const started = await Promise.all(
    boxes.map((b, i) =>
      harness.startServer({
        addr: b.addr,
        name: 'Escola',
        data: mkdtempSync(join(TMP, `failover-box${i + 1}-`)),
        extra: ['--cluster-secret-file', secret, '--cluster-listen', b.route, '--cluster-peers', boxes.filter((o) => o !== b).map((o) => o.route).join(',')],
        log: `failover-box${i + 1}.log`,
        wait: FORM_WAIT,
      }),
    ),
  );
  started.forEach((s, i) => (boxes[i].server = s));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const b of boxes) await killServer(b.server);
});

/** brunoFrames are the frames Bruno got, of a type, in general. */
function brunoFrames(type) {
  return bruno.page.evaluate((type) => window.__frames.Bruno.filter((f) => f.type === type && (f.room === undefined || f.room === 'general')), type);
}

/** shown are the messages in the open room with that text, as the page shows them. */
function shown(page, text) {
  return page.$$eval(
    '[data-testid=message]',
    (els, text) => els.filter((e) => e.querySelector('.body')?.textContent.trim() === text).map((e) => ({ state: e.dataset.state, seq: e.dataset.seq, own: e.classList.contains('own') })),
    text,
  );
}

test('a page of a killed box goes on at another box, and nothing is lost or doubled', async () => {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const ana = { name: 'Ana', context, page, pageErrors: [] };
  page.on('pageerror', (e) => ana.pageErrors.push(String(e)));
  // a box that refuses the page's origin (HTTP 403) makes failover impossible: say so if it happens
  const refused = [];
  page.on('console', (m) => /Unexpected response code: 403/.test(m.text()) && refused.push(m.text()));
  page.setDefaultTimeout(WAIT);
  await page.goto(boxes[0].base);
  await page.getByLabel('Your name').fill('Ana');
  await page.getByLabel('Your name').press('Enter');
  await online(ana);
  await openRoom(ana, 'general');

  // Bruno, on box 3, in general
  bruno = await rawMembers(browser, boxes[2].base, ['Bruno']);
  await bruno.page.evaluate(() => window.__sockets.Bruno.send(JSON.stringify({ type: 'join', room: 'general' })));
  await bruno.page.waitForFunction(() => window.__frames.Bruno.some((f) => f.type === 'joined' && f.room === 'general'));
  await page.locator('[data-testid=members] li', { hasText: 'Bruno' }).waitFor();

  // before: Ana's message reaches Bruno across the boxes
  await send(ana, 'before the failover');
  await bruno.page.waitForFunction(() => window.__frames.Bruno.some((f) => f.type === 'message' && f.text === 'before the failover'));
  await page.locator('[data-testid=message][data-state=sent]', { hasText: 'before the failover' }).waitFor();

  // box 1, whose page Ana uses, dies
  await killServer(boxes[0].server);
  boxes[0].server = undefined;

  // without a reload, Ana writes: pending until her page is in at another box
  await send(ana, 'after the failover');
  await bruno.page
    .waitForFunction(() => window.__frames.Bruno.some((f) => f.type === 'message' && f.text === 'after the failover'), null, { timeout: FAILOVER_WAIT })
    .catch((err) => {
      assert.deepEqual(refused, [], "the other boxes refused the page of box 1 (its origin) after box 1 was gone; Ana's page could not get in");
      throw err;
    });
  await online(ana);
  await page.locator('[data-testid=message][data-state=sent]', { hasText: 'after the failover' }).waitFor();
  // a while for a copy that should not come
  await page.waitForTimeout(2000);
  const got = (await brunoFrames('message')).filter((f) => f.text === 'after the failover');
  assert.equal(got.length, 1, 'Bruno gets the message once');
  const after1 = await shown(page, 'after the failover');
  assert.equal(after1.length, 1, "Ana's page shows it once");
  assert.equal(after1[0].state, 'sent');
  assert.equal(after1[0].seq, String(got[0].seq), 'with the seq the cluster gave it');
  assert.equal(after1[0].own, true);
  // her message from before is still hers, and there once
  const before1 = await shown(page, 'before the failover');
  assert.equal(before1.length, 1);
  assert.equal(before1[0].state, 'sent');
  assert.equal(before1[0].own, true);
  // the new box started a new session, and Ana is still the same member
  // (her id follows her name on her device), so her earlier message stays hers
  const byAna = (await brunoFrames('message')).filter((f) => f.from.name === 'Ana');
  assert.equal(byAna.length, 2);
  assert.equal(byAna[0].from.id, byAna[1].from.id);

  // and back: Bruno's message reaches Ana's page, once
  await bruno.page.evaluate(() => window.__sockets.Bruno.send(JSON.stringify({ type: 'send', room: 'general', client_id: 'b-1', text: 'hello from box 3' })));
  await page.locator('[data-testid=message]', { hasText: 'hello from box 3' }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await page.locator('[data-testid=message]', { hasText: 'hello from box 3' }).count(), 1);

  // the member list shows Ana once (her ghost on box 1 is gone) and Bruno
  await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('[data-testid=members] li .name')].map((e) => e.textContent.trim());
    return names.length === 2 && names.includes('Ana') && names.includes('Bruno');
  });
  await page.screenshot({ path: join(OUT, 'failover-01-after.png') });
  assert.deepEqual(ana.pageErrors, []);
  await bruno.close();
});

// Browser end-to-end test of the join link and its QR code: a host listening
// on every address of the test's namespace (run.sh gives it a LAN of its own,
// 10.99.0.1) shows its LAN link and a large QR code; a host listening on
// 127.0.0.1 only says that no other device can join and shows no code to scan
// (it would be a dead link on a phone). run.sh starts this inside a network
// namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online } from './harness.mjs';

const LAN_PORT = 47926;
const LOCAL_PORT = 47927;
const LAN_IP = '10.99.0.1';
let lanHost;
let localHost;
let browser;

before(async () => {
  lanHost = await harness.startServer({
    addr: `127.0.0.1:${LAN_PORT}`,
    listen: `0.0.0.0:${LAN_PORT}`,
    name: 'Sala 21',
    data: mkdtempSync(join(TMP, 'links-lan-')),
    log: 'links-server.log',
  });
  localHost = await harness.startServer({
    addr: `127.0.0.1:${LOCAL_PORT}`,
    name: 'Sala 22',
    data: mkdtempSync(join(TMP, 'links-local-')),
    log: 'links-server.log',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(lanHost);
  await killServer(localHost);
});

const words = {
  'en-US': { name: 'Your name', card: 'Session card' },
  'pt-BR': { name: 'Seu nome', card: 'Convidar alunos' },
};

/** openCard joins base as Ana in locale and opens the session card. */
async function openCard(base, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(base);
  await page.getByLabel(words[locale].name).fill('Ana');
  await page.getByLabel(words[locale].name).press('Enter');
  const x = { name: 'Ana', context, page };
  await online(x);
  await page.getByRole('button', { name: words[locale].card }).click();
  const card = page.locator('[data-testid=session-card]');
  await card.waitFor();
  return { ...x, card };
}

test('a host on every address shows its LAN link and a large QR code', async () => {
  const info = await (await fetch(`http://127.0.0.1:${LAN_PORT}/api/info`)).json();
  assert.deepEqual(info.urls, [`http://${LAN_IP}:${LAN_PORT}/#fp=${info.fingerprint}`], 'the host offers its LAN link only');
  const ana = await openCard(`http://127.0.0.1:${LAN_PORT}/`, 'en-US');
  const card = ana.card;
  await card.getByText(`http://${LAN_IP}:${LAN_PORT}/`, { exact: true }).waitFor();
  assert.equal(await card.locator('[data-testid=local-only]').count(), 0);
  const d = await card.locator('svg.qr path').getAttribute('d');
  assert.ok(d && d.length > 200, 'a QR code was drawn');
  const box = await card.locator('svg.qr').boundingBox();
  assert.ok(box && box.width >= 300, 'the QR code is large');
  assert.equal(await card.locator('svg.qr').getAttribute('aria-label'), `QR code for http://${LAN_IP}:${LAN_PORT}/#fp=${info.fingerprint}`);
  await ana.page.screenshot({ path: join(OUT, '40-card-lan.png') });
  await axe(ana, 'the session card of a LAN host');
  await ana.context.close();
});

test('a host on loopback says only this computer can join, with no code to scan', async () => {
  const info = await (await fetch(`http://127.0.0.1:${LOCAL_PORT}/api/info`)).json();
  assert.deepEqual(info.urls, [`http://127.0.0.1:${LOCAL_PORT}/#fp=${info.fingerprint}`], 'no dead LAN link');
  for (const [locale, text] of [
    ['en-US', `Only this computer can join: this host listens on 127.0.0.1 only. To let other devices join, start it with --addr :${LOCAL_PORT}.`],
    ['pt-BR', `Só este computador pode entrar: este anfitrião escuta apenas em 127.0.0.1. Para outros aparelhos entrarem, inicie-o com --addr :${LOCAL_PORT}.`],
  ]) {
    const ana = await openCard(`http://127.0.0.1:${LOCAL_PORT}/`, locale);
    await ana.card.locator('[data-testid=local-only]', { hasText: text }).waitFor();
    assert.equal(await ana.card.locator('svg.qr').count(), 0, 'no QR code for a loopback link');
    await ana.card.getByText(`http://127.0.0.1:${LOCAL_PORT}/`, { exact: true }).waitFor();
    await ana.page.screenshot({ path: join(OUT, `41-card-local-${locale}.png`) });
    await axe(ana, `the session card of a loopback host (${locale})`);
    await ana.context.close();
  }
});

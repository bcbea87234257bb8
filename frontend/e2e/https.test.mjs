// Browser end-to-end test of a host serving a certificate of its own choosing
// (`lanchat serve --tls-cert/--tls-key`, docs/protocol.md, "Encryption and
// host keys"): Chromium loads the page over https and chats over wss, a
// second page joins over plain http on the same port as before, and only the
// plain one is told it is not encrypted. The certificate is a host key made
// by a first run of lanchat, which the browser context is told to accept, as
// a school's browsers would trust the school's CA. run.sh starts this inside
// a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { TMP, WAIT, killServer, launchBrowser, online, send } from './harness.mjs';

const ADDR = '127.0.0.1:47898';
let server;
let browser;

before(async () => {
  // A first run makes a key and certificate in its data dir.
  const keys = mkdtempSync(join(TMP, 'tls-keys-'));
  const first = await harness.startServer({ addr: ADDR, name: 'Chaves', data: keys, log: 'https-server.log' });
  await killServer(first);
  server = await harness.startServer({
    addr: ADDR,
    name: 'Sala segura',
    data: mkdtempSync(join(TMP, 'https-')),
    extra: ['--tls-cert', join(keys, 'tls-cert.pem'), '--tls-key', join(keys, 'tls-key.pem')],
    log: 'https-server.log',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

async function person(name, base, ignoreHTTPSErrors) {
  const context = await browser.newContext({ locale: 'en-US', ignoreHTTPSErrors, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(base);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Your name').press('Enter');
  const x = { name, context, page, sockets };
  await online(x);
  return x;
}

test('a browser joins over https and wss, and another over plain http on the same port', async () => {
  const ana = await person('Ana', `https://${ADDR}/`, true);
  assert.ok(ana.sockets.length > 0 && ana.sockets.every((u) => u.startsWith(`wss://${ADDR}/`)), `sockets ${ana.sockets}`);
  assert.equal(await ana.page.locator('[data-testid=insecure]').count(), 0, 'an https page is not called unencrypted');

  const bia = await person('Bia', `http://${ADDR}/`, false);
  assert.ok(bia.sockets.every((u) => u.startsWith(`ws://${ADDR}/`)), `sockets ${bia.sockets}`);
  await bia.page.locator('[data-testid=insecure]').waitFor();

  await send(ana, 'over wss');
  await bia.page.locator('[data-testid=message]', { hasText: 'over wss' }).waitFor();
  await send(bia, 'a plain reply');
  await ana.page.locator('[data-testid=message]', { hasText: 'a plain reply' }).waitFor();
  await ana.context.close();
  await bia.context.close();
});

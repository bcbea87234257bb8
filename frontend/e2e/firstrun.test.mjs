// Browser end-to-end test of the first-run form: the host's answer to a new
// member comes back to the form before the chat screen shows. A taken name
// and a missing or wrong join code are said next to the field that caused
// them, with what was typed kept; the join code the host set still holds
// after the host restarts. run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online } from './harness.mjs';

const ADDR = '127.0.0.1:47928';
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'firstrun-'));
const TOKEN_FILE = join(DATA, 'host-token');
let server;
let browser;

function startServer() {
  return harness.startServer({ addr: ADDR, name: 'Sala 7', data: DATA, extra: ['--host-token-file', TOKEN_FILE], log: 'firstrun-server.log' });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

const words = {
  'en-US': {
    name: 'Your name',
    code: 'Join code',
    start: 'Start chatting',
    taken: 'Someone on this host already has that name. Choose another one.',
    required: 'This host needs a join code.',
    wrong: 'That join code is wrong.',
  },
  'pt-BR': {
    name: 'Seu nome',
    code: 'Código de entrada',
    start: 'Começar a conversar',
  },
};

async function page(locale = 'en-US', viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ locale, viewport });
  const p = await context.newPage();
  p.setDefaultTimeout(WAIT);
  const errors = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(BASE);
  await p.getByLabel(words[locale].name).waitFor();
  return { name: locale, context, page: p, errors };
}

async function submit(x, name, code) {
  const w = words[x.name];
  await x.page.getByLabel(w.name).fill(name);
  if (code !== undefined) await x.page.getByLabel(w.code, { exact: true }).fill(code);
  await x.page.getByRole('button', { name: w.start }).click();
}

/** stillOnForm: the chat screen did not show, the field kept what was typed, and the problem is said next to it. */
async function stillOnForm(x, field, value, hintId, text) {
  await x.page.locator(`#${hintId}`, { hasText: text }).waitFor();
  assert.equal(await x.page.locator('#composer').count(), 0, 'the chat screen did not show');
  const input = x.page.getByLabel(field, { exact: true });
  assert.equal(await input.inputValue(), value, 'what was typed is kept');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the field with the problem has the focus');
}

/** setJoinCode sets the host's join code as the host's own app does: a hello with the host token, then the control (from a page of the host's origin). */
async function setJoinCode(code) {
  const token = readFileSync(TOKEN_FILE, 'utf8').trim();
  const context = await browser.newContext();
  const p = await context.newPage();
  await p.goto(BASE + 'api/info');
  await p.evaluate(
    ({ token, code }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', version: 1, name: 'Professora', host_token: token }));
        ws.onmessage = (e) => {
          for (const line of String(e.data).split('\n')) {
            const f = JSON.parse(line);
            if (f.type === 'welcome') {
              ws.send(JSON.stringify({ type: 'control', action: 'set_join_code', name: code }));
              resolve();
            }
            if (f.type === 'error') reject(new Error(f.code));
          }
        };
        ws.onerror = () => reject(new Error('the socket failed'));
      }),
    { token, code },
  );
  for (const deadline = Date.now() + WAIT; ; ) {
    const info = await (await fetch(BASE + 'api/info')).json();
    if (info.join_code === !!code) break;
    assert.ok(Date.now() < deadline, `the host did not take the join code ${JSON.stringify(code)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await context.close();
}

test('a taken name is said on the first-run form, the name kept; another one gets in', async () => {
  const ana = await page();
  await submit(ana, 'Ana');
  await online(ana);
  const other = await page();
  await submit(other, 'ana');
  await stillOnForm(other, 'Your name', 'ana', 'first-hint', words['en-US'].taken);
  await other.page.screenshot({ path: join(OUT, '45-first-run-name-taken.png') });
  await axe(other, 'the first-run form with a taken name');
  await submit(other, 'Ana Clara');
  await online(other);
  for (const x of [ana, other]) {
    assert.deepEqual(x.errors, []);
    await x.context.close();
  }
});

test('a join code is asked on the first-run form, a wrong one said there, and it holds after the host restarts', async () => {
  await setJoinCode('sala7');
  const carla = await page();
  // the host said a code is needed: the form asks for it at once
  await carla.page.getByLabel('Join code', { exact: true }).waitFor();
  await submit(carla, 'Carla', '');
  await stillOnForm(carla, 'Join code', '', 'first-code-hint', words['en-US'].required);
  await submit(carla, 'Carla', 'sala8');
  await stillOnForm(carla, 'Join code', 'sala8', 'first-code-hint', words['en-US'].wrong);
  assert.equal(await carla.page.getByLabel('Your name').inputValue(), 'Carla', 'the name is kept too');
  await carla.page.screenshot({ path: join(OUT, '46-first-run-code-wrong.png') });
  await axe(carla, 'the first-run form with a wrong code');
  await submit(carla, 'Carla', 'SALA7'); // case-insensitive
  await online(carla);
  await carla.context.close();

  // the host restarts: the code still holds
  await killServer(server);
  server = await startServer();
  const info = await (await fetch(BASE + 'api/info')).json();
  assert.equal(info.join_code, true, 'the join code survived the restart');
  const dani = await page('pt-BR', { width: 390, height: 844 });
  await submit(dani, 'Dani', 'nope1');
  await stillOnForm(dani, 'Código de entrada', 'nope1', 'first-code-hint', 'Esse código de entrada está errado.');
  await axe(dani, 'the first-run form in Portuguese on a phone');
  await dani.page.screenshot({ path: join(OUT, '47-first-run-code-phone.png') });
  await submit(dani, 'Dani', 'sala7');
  await online(dani);
  await dani.context.close();
  await setJoinCode('');
});

/** desktopPage opens the page as the desktop app would: its first run, with SetHostName recorded. */
async function desktopPage(locale) {
  const self = { ...(await harness.desktopSelf(ADDR)), name: 'root', host_token: undefined };
  const settings = { name: '', language: '', host_name: '', data_dir: '/tmp/lanchat' };
  const context = await harness.desktopContext(browser, { self, settings, hostName: true, options: { locale } });
  const p = await context.newPage();
  p.setDefaultTimeout(WAIT);
  await p.goto(BASE);
  return { name: locale, context, page: p };
}

test('the desktop app first asks a name for this computer too, prefilled from the person’s name, never the login', async () => {
  for (const [locale, field, suggested] of [
    ['en-US', 'This computer’s chat name', 'Lia’s room'],
    ['pt-BR', 'Nome deste computador no chat', 'Sala de Lia'],
  ]) {
    const x = await desktopPage(locale);
    const host = x.page.getByLabel(field);
    await host.waitFor();
    assert.equal(await host.inputValue(), '', 'no login name (root) offered');
    assert.equal(await x.page.getByText('root').count(), 0, 'the login name is not shown as the host');
    await x.page.getByLabel(words[locale].name).fill('Lia');
    assert.equal(await host.inputValue(), suggested, 'follows the name typed');
    await x.page.screenshot({ path: join(OUT, `48-first-run-desktop-${locale}.png`) });
    await axe(x, `the desktop first run (${locale})`);
    if (locale === 'pt-BR') {
      await x.context.close();
      continue;
    }
    await host.fill('Sala da Prof. Lia');
    await x.page.getByLabel(words[locale].name).fill('Lia Costa');
    assert.equal(await host.inputValue(), 'Sala da Prof. Lia', 'once edited, it stays as typed');
    await x.page.getByRole('button', { name: words[locale].start }).click();
    await online(x);
    assert.deepEqual(await x.page.evaluate(() => window.__calls), [['SetHostName', 'Sala da Prof. Lia']]);
    assert.ok((await x.page.evaluate(() => window.__saved)).some((s) => s.name === 'Lia Costa'), 'the person’s name is saved');
    await x.context.close();
  }
});

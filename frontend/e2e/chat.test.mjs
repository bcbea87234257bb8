// Browser end-to-end tests: two people in Debian's Chromium chat through a
// real `lanchat serve`. run.sh starts this inside a network namespace of its
// own, so the host on 127.0.0.1 is reachable only from here.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, openRoom, send } from './harness.mjs';

const PORT = 47890;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'data-'));

let server;
let second;
let browser;
const users = {};

// ---- the host ---------------------------------------------------------------

function startServer(rooms, { addr = ADDR, name = 'Sala 12', data = DATA, extra = [] } = {}) {
  return harness.startServer({ addr, name, data, rooms, extra });
}

// ---- people -----------------------------------------------------------------

async function newUser(name) {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const u = { name, context, page, dialogs: [], pageErrors: [] };
  page.on('dialog', (d) => {
    u.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => u.pageErrors.push(String(e)));
  page.setDefaultTimeout(WAIT);
  await page.goto(BASE);
  return u;
}

async function signIn(u) {
  const field = u.page.getByLabel('Your name');
  await field.waitFor();
  // the keyboard alone: the field has the focus, Enter submits
  await u.page.keyboard.type(u.name);
  await u.page.keyboard.press('Enter');
  await online(u);
}

/** texts are the message bodies of the room on screen, in order. */
function texts(u) {
  return u.page.$$eval('[data-testid=message] .body', (els) => els.map((e) => e.textContent.trim()));
}

function waitMessage(u, text, state = 'sent') {
  return u.page.waitForFunction(
    ([t, s]) =>
      [...document.querySelectorAll('[data-testid=message]')].some(
        (m) => m.dataset.state === s && m.querySelector('.body')?.textContent.trim() === t,
      ),
    [text, state],
    { timeout: WAIT },
  );
}

function waitNotice(u, text) {
  return u.page.locator('[data-testid=notice]', { hasText: text }).first().waitFor();
}

async function shot(u, name) {
  await u.page.screenshot({ path: join(OUT, name + '.png') });
}

function countOf(list, item) {
  return list.filter((x) => x === item).length;
}

// ---- the story --------------------------------------------------------------

before(async () => {
  server = await startServer('general,projects,random');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const s of [server, second]) await killServer(s);
});

test('first run asks only for a name, and is accessible', async () => {
  const ana = (users.ana = await newUser('Ana'));
  await ana.page.getByLabel('Your name').waitFor();
  assert.equal(await ana.page.locator('input, textarea').count(), 1, 'one field');
  await shot(ana, '01-first-run');
  await axe(ana, 'the first-run screen');
  await signIn(ana);
});

test('two people join and see each other', async () => {
  const ana = users.ana;
  const bruno = (users.bruno = await newUser('Bruno'));
  await signIn(bruno);
  await ana.page.locator('[data-testid=members] li', { hasText: 'Bruno' }).waitFor();
  await bruno.page.locator('[data-testid=members] li', { hasText: 'Ana' }).waitFor();
  await waitNotice(ana, 'Bruno joined');
  await shot(ana, '02-lobby');
  await axe(ana, 'the lobby');
});

test('a taken name is explained in words and can be changed on the spot', async () => {
  // On the first-run form (firstrun.test.mjs has more of it): said there, before the chat screen.
  const first = await newUser('ANA');
  await first.page.getByLabel('Your name').fill('ANA');
  await first.page.getByLabel('Your name').press('Enter');
  await first.page.locator('#first-hint', { hasText: 'Someone on this host already has that name. Choose another one.' }).waitFor();
  await first.context.close();
  // A remembered name that someone took meanwhile: said in the chat screen, and changed there.
  const other = await newUser('ANA');
  await other.page.evaluate(() => localStorage.setItem('lanchat.name', 'ANA'));
  await other.page.reload();
  await other.page.locator('[data-testid=conn-status][data-status=refused]', { hasText: 'Someone on this host already has that name. Choose another one.' }).waitFor();
  await shot(other, '02-name-taken');
  await axe(other, 'the name-taken prompt');
  await other.page.getByLabel('Another name').fill('Ana Clara');
  await other.page.getByLabel('Another name').press('Enter');
  await online(other);
  await other.page.locator('[data-testid=members] li', { hasText: 'Ana Clara' }).waitFor();
  await other.page.getByText('You are Ana Clara').waitFor();
  assert.equal(await other.page.evaluate(() => localStorage.getItem('lanchat.name')), 'Ana Clara');
  await other.context.close();
  await waitNotice(users.ana, 'Ana Clara lost the connection');
});

test('a message reaches only its room', async () => {
  const { ana, bruno } = users;
  await openRoom(ana, 'general');
  await openRoom(bruno, 'general');
  await send(ana, 'hello general');
  await waitMessage(bruno, 'hello general');
  await waitMessage(ana, 'hello general');

  await openRoom(bruno, 'random'); // joins random too
  await openRoom(ana, 'random');
  await openRoom(ana, 'general');
  await send(ana, 'second in general');
  // Bruno, looking at random, sees an unread badge on general, and the count in the title
  await bruno.page.locator('button[data-room=general] [data-testid=unread]').waitFor();
  await bruno.page.waitForFunction(() => document.title === '(1) Sala 12 — lanchat');
  await shot(bruno, '03-unread-badge');

  await openRoom(ana, 'random');
  await send(ana, 'only in random');
  await waitMessage(bruno, 'only in random');
  assert.deepEqual(await texts(bruno), ['only in random']);

  await openRoom(bruno, 'general');
  await waitMessage(bruno, 'second in general');
  const general = await texts(bruno);
  assert.deepEqual(general, ['hello general', 'second in general']);
  assert.equal(await bruno.page.locator('button[data-room=general] [data-testid=unread]').count(), 0, 'read once opened');
});

test('people see join and leave notices, and the unknown-room error in words', async () => {
  const { ana, bruno } = users;
  // Ana is in random; Bruno leaves it
  await openRoom(bruno, 'random');
  await bruno.page.getByRole('button', { name: 'Leave room' }).click();
  await waitNotice(ana, 'Bruno left');

  await ana.page.getByLabel('Open a room by name').fill('sala9');
  await ana.page.getByLabel('Open a room by name').press('Enter');
  const toast = ana.page.locator('[data-testid=toast]', { hasText: 'There is no room called “sala9”.' });
  await toast.waitFor();
  assert.equal(await ana.page.locator('[data-testid=toast]', { hasText: 'no_such_room' }).count(), 0, 'no raw code');
  await shot(ana, '04-unknown-room');
  await axe(ana, 'a room with notices and an error');
});

test('markup in a message is shown as text and never runs', async () => {
  const { ana, bruno } = users;
  await openRoom(ana, 'general');
  await openRoom(bruno, 'general');
  // typing shows under the messages and in the member list
  await bruno.page.locator('#composer').type('hm');
  await ana.page.locator('[data-testid=typing]', { hasText: 'Bruno is typing…' }).waitFor();
  await ana.page.locator('[data-testid=members] li', { hasText: 'typing…' }).filter({ hasText: 'Bruno' }).waitFor();
  await bruno.page.locator('#composer').fill('');
  const evil = '<img src=x onerror=alert(1)>';
  await send(ana, evil);
  await waitMessage(bruno, evil);
  await waitMessage(ana, evil);
  for (const u of [ana, bruno]) {
    assert.equal(await u.page.locator('.entries img').count(), 0, 'no image element was made');
    // a round trip through the page after rendering: a dialog would have been reported by now
    assert.equal(await u.page.evaluate(() => document.querySelectorAll('.entries li').length > 0), true);
    assert.deepEqual(u.dialogs, []);
  }
});

test('Enter sends, Shift+Enter starts a new line, and the characters are counted', async () => {
  const { ana, bruno } = users;
  const box = ana.page.locator('#composer');
  await box.click();
  await ana.page.keyboard.type('line one');
  await ana.page.keyboard.press('Shift+Enter');
  await ana.page.keyboard.type('line two');
  assert.equal((await ana.page.locator('#composer-count').textContent()).trim(), '17 characters');
  await ana.page.keyboard.press('Enter');
  await waitMessage(bruno, 'line one\nline two');
  assert.equal(await box.inputValue(), '');
});

test('the keyboard alone reaches a room and sends', async () => {
  const { bruno } = users;
  const page = bruno.page;
  // Tab reaches the room list (one stop), the arrows the room in it
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-room'));
  let found = false;
  for (let i = 0; i < 40 && !found; i++) {
    await page.keyboard.press('Tab');
    found = !!(await focused());
  }
  assert.ok(found, 'Tab reaches the room list');
  for (let i = 0; i < 5 && (await focused()) !== 'projects'; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'projects', 'the arrows reach the projects room');
  await page.keyboard.press('Enter');
  await page.locator('button[data-room=projects][aria-current=true]').waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'composer');
  await page.keyboard.type('typed with the keyboard');
  await page.keyboard.press('Enter');
  await waitMessage(bruno, 'typed with the keyboard');
  await openRoom(bruno, 'general');
});

test('a host restart mid-conversation loses nothing and doubles nothing', async () => {
  const { ana, bruno } = users;
  await openRoom(ana, 'general');
  await send(bruno, 'just before the restart');
  await waitMessage(ana, 'just before the restart');
  const before = await texts(ana);
  assert.deepEqual(await texts(bruno), before);
  const joinLines = () => ana.page.locator('[data-testid=notice][data-event=joined]').count();
  const joinsBefore = await joinLines();

  await killServer(server);
  for (const u of [ana, bruno]) await u.page.locator('[data-testid=conn-status][data-status=waiting]').waitFor();
  await send(ana, 'sent while the host was down');
  await waitMessage(ana, 'sent while the host was down', 'pending');
  await shot(ana, '05-host-down');

  // the same address and data dir: a host with durable history comes back
  // with it; one without starts over, and the clients must cope either way
  server = await startServer('general,projects,random');
  await online(ana);
  await online(bruno);
  await waitMessage(ana, 'sent while the host was down', 'sent');
  await waitMessage(bruno, 'sent while the host was down');
  await send(bruno, 'after the restart');
  await waitMessage(ana, 'after the restart');
  await waitMessage(bruno, 'after the restart');

  const want = [...before, 'sent while the host was down', 'after the restart'];
  for (const u of [ana, bruno]) {
    const got = await texts(u);
    assert.deepEqual(got, want, `${u.name} sees every message once, in order`);
    for (const t of want) assert.equal(countOf(got, t), 1);
  }
  // everyone came back with the host: no new "joined" lines for those who were here
  assert.equal(await joinLines(), joinsBefore, 'a restart that brings everyone back announces nobody');
  await shot(ana, '06-after-restart');
  await shot(bruno, '06-after-restart-bruno');
});

test('the session card of a host on loopback shows its link, says who can join, and copies the link', async () => {
  const { ana } = users;
  await ana.page.getByRole('button', { name: 'Session card' }).click();
  const card = ana.page.locator('[data-testid=session-card]');
  await card.waitFor();
  await card.getByText(`http://${ADDR}/`, { exact: true }).first().waitFor();
  // the host's key, short, for people to compare; the link and QR code carry it whole
  const info = await (await fetch(`http://${ADDR}/api/info`)).json();
  const short = info.fingerprint.slice(0, 16).toUpperCase().match(/.{4}/g).join('-');
  assert.equal((await card.locator('[data-testid=card-key]').innerText()).trim(), `Host key: ${short}`);
  // a browser on plain http is told so
  await ana.page.locator('[data-testid=insecure]').waitFor();
  // this host listens on 127.0.0.1: no code to scan (links.test.mjs has a LAN host's QR code)
  await card.locator('[data-testid=local-only]').waitFor();
  assert.equal(await card.locator('svg.qr').count(), 0);
  await card.getByRole('button', { name: 'Copy link' }).click();
  await card.getByRole('button', { name: 'Link copied' }).waitFor();
  await shot(ana, '07-session-card');
  await axe(ana, 'the session card');
  await ana.page.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });
});

test('a host added by address shows in the rail, and its link hops there with the same name', async () => {
  const { ana } = users;
  const addr2 = '127.0.0.1:47891';
  // the desktop test below talks to it from the first host's page: let that origin in
  second = await startServer('general', { addr: addr2, name: 'Sala 13', data: mkdtempSync(join(TMP, 'data2-')), extra: ['--allow-origin', BASE.slice(0, -1)] });
  await ana.page.getByRole('button', { name: 'Add by address' }).click();
  await ana.page.getByLabel('Address (name or IP, optional :port)').fill(addr2);
  await ana.page.getByLabel('Address (name or IP, optional :port)').press('Enter');
  const link = ana.page.locator('nav a[data-peer]', { hasText: 'Sala 13' });
  await link.waitFor();
  assert.match(await link.getAttribute('href'), new RegExp(`^http://${addr2}/#as=Ana$`));
  await ana.page.getByText('Why don’t I see other computers?').click();
  await ana.page.locator('details.check dd', { hasText: 'off' }).first().waitFor();
  await shot(ana, '08-peer-added');
  await axe(ana, 'the rail with a peer');

  // in a browser, another host is another page
  await link.click();
  await ana.page.waitForURL(`http://${addr2}/`);
  await online(ana);
  await ana.page.getByRole('heading', { name: 'Sala 13', level: 1 }).waitFor();
  await ana.page.getByText('You are Ana').waitFor();
  await ana.page.goBack();
  await ana.page.waitForURL(BASE);
  await online(ana);
  await ana.page.getByRole('heading', { name: 'Sala 12', level: 1 }).waitFor();
  await openRoom(ana, 'general');
});

test('the language switches to Portuguese, and dark mode follows the OS', async () => {
  const { ana } = users;
  await ana.page.emulateMedia({ colorScheme: 'dark' });
  await ana.page.getByLabel('Language').selectOption('pt-BR');
  await ana.page.getByRole('heading', { name: 'Salas' }).waitFor();
  await ana.page.getByRole('button', { name: 'Sair da sala' }).waitFor();
  assert.equal(await ana.page.evaluate(() => document.documentElement.lang), 'pt-BR');
  const bg = await ana.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(bg, 'rgb(17, 24, 39)', 'dark background');
  await shot(ana, '09-pt-BR-dark');
  await axe(ana, 'Portuguese, dark');
});

// ---- the desktop app's side of the bridge ------------------------------------
// The page gets a stand-in for the Wails bindings (window.go.app.App and
// window.runtime), as the desktop webview would, and must use them.

const ADDR2 = '127.0.0.1:47891';

async function desktopUser(name) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const info = await (await fetch(BASE + 'api/info')).json();
  await context.addInitScript(
    ({ self, name, peer }) => {
      const calls = (window.__calls = []);
      window.go = {
        app: {
          App: {
            Self: async () => (calls.push(['Self']), self),
            Settings: async () => ({ name, language: '', data_dir: '/tmp/lanchat' }),
            SaveSettings: async (s) => void calls.push(['SaveSettings', s]),
            Peers: async () => [{ ...self, self: true, url: 'http://' + self.ws_url.split('/')[2] + '/' }, peer],
            AddPeer: async (addr) => ({ id: 'p-' + addr, name: addr, addr }),
            Diagnosis: async () => ({}),
            Notify: async (title, body) => void calls.push(['Notify', title, body]),
            ForgetKey: async (id) => void calls.push(['ForgetKey', id]),
          },
        },
      };
      window.runtime = {
        EventsOn: (ev, cb) => {
          if (ev === 'peers') window.__emitPeers = cb;
          return () => {};
        },
        BrowserOpenURL: (url) => void calls.push(['BrowserOpenURL', url]),
      };
    },
    {
      self: { id: info.id, name: info.name, port: PORT, ws_url: `ws://${ADDR}/ws`, join_urls: [BASE], host_token: 'not-the-real-one', version: 'e2e' },
      name,
      peer: { id: 'h-second', name: 'Sala 13', url: `http://${ADDR2}/`, addr: ADDR2, members: 0, join_code: false },
    },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const u = { name, context, page, dialogs: [], pageErrors: [] };
  page.on('pageerror', (e) => u.pageErrors.push(String(e)));
  await page.goto(BASE);
  return u;
}

const calls = (u, kind) => u.page.evaluate((k) => window.__calls.filter((c) => c[0] === k), kind);

test('desktop: the name is prefilled from the settings and saved', async () => {
  const carla = (users.carla = await desktopUser('Carla'));
  const field = carla.page.getByLabel('Your name');
  await field.waitFor();
  assert.equal(await field.inputValue(), 'Carla');
  await carla.page.keyboard.press('Enter');
  await online(carla);
  const saved = await calls(carla, 'SaveSettings');
  assert.equal(saved.at(-1)[1].name, 'Carla');
  await carla.page.getByRole('button', { name: /This computer/ }).waitFor();
});

test('desktop: peers are live, and another host opens in place beside this one', async () => {
  const { carla } = users;
  const peerBtn = carla.page.locator('nav button.host', { hasText: 'Sala 13' });
  await peerBtn.waitFor();
  await carla.page.evaluate(() => window.__emitPeers([{ id: 'h-x', name: 'Sala 14', addr: '127.0.0.1:47899' }]));
  await carla.page.locator('nav button.host', { hasText: 'Sala 14' }).waitFor();
  await peerBtn.waitFor({ state: 'detached' });
  await carla.page.evaluate(() => window.__emitPeers([{ id: 'h-second', name: 'Sala 13', url: 'http://127.0.0.1:47891/', members: 1 }]));
  await peerBtn.click();
  await carla.page.getByRole('heading', { name: 'Sala 13', level: 1 }).waitFor();
  await online(carla);

  // while Carla looks at this computer, someone writes on the other host
  await carla.page.getByRole('button', { name: /This computer/ }).click();
  await carla.page.getByRole('heading', { name: 'Sala 12', level: 1 }).waitFor();
  const dora = (users.dora = await newUser('Dora'));
  await dora.page.goto(`http://${ADDR2}/`);
  await signIn(dora);
  await carla.page.evaluate(() => {
    document.hasFocus = () => false; // the window is in the background
  });
  await send(dora, 'Carla, are you there?');
  await carla.page.locator('nav button.host', { hasText: 'Sala 13' }).locator('.badge').waitFor();
  await carla.page.waitForFunction(() => window.__calls.some((c) => c[0] === 'Notify'));
  const notes = await calls(carla, 'Notify');
  assert.equal(notes.length, 1);
  assert.match(notes[0][1], /Dora/);
  assert.equal(notes[0][2], 'Carla, are you there?');
  await shot(carla, '10-desktop-two-hosts');
  await axe(carla, 'the desktop rail with two hosts');
});

test('desktop: links open in the system browser', async () => {
  const { carla, bruno } = users;
  await openRoom(carla, 'general');
  await send(bruno, 'slides at https://example.org/slides?x=1 here');
  const link = carla.page.locator('.entries a', { hasText: 'https://example.org/slides?x=1' });
  await link.click();
  await carla.page.waitForFunction(() => window.__calls.some((c) => c[0] === 'BrowserOpenURL'));
  assert.deepEqual(await calls(carla, 'BrowserOpenURL'), [['BrowserOpenURL', 'https://example.org/slides?x=1']]);
  assert.equal(carla.context.pages().length, 1, 'no page opened inside the app');
});

test('desktop: a host whose key changed is not joined, until the person trusts its new key', async () => {
  const { carla } = users;
  const fp = 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst';
  await carla.page.evaluate(
    (fp) =>
      window.__emitPeers([
        { id: 'h-second', name: 'Sala 13', url: 'http://127.0.0.1:47891/', addr: '127.0.0.1:47891', members: 1 },
        { id: 'h-t', name: 'Teacher', addr: '127.0.0.1:47899', fingerprint: fp, trust: 'changed' },
        { id: 'h-n', name: 'Lab', addr: '127.0.0.1:47898', fingerprint: fp, trust: 'new' },
      ]),
    fp,
  );
  const teacher = carla.page.locator('nav li', { hasText: 'Teacher' });
  await teacher.getByText('Key changed: may be an impostor').waitFor();
  assert.ok(await teacher.locator('button.host').isDisabled(), 'the host cannot be opened');
  await carla.page.locator('nav li', { hasText: 'Lab' }).getByText('New host: key ABCD-EFGH-IJKL-MNOP').waitFor();
  await carla.page.locator('nav li', { hasText: 'Sala 13' }).getByText('Not encrypted').waitFor();
  await shot(carla, '10b-desktop-key-changed');
  await axe(carla, 'the rail with a changed key');
  carla.page.once('dialog', (d) => d.accept());
  await teacher.getByRole('button', { name: 'I checked it: trust the new key' }).click();
  await carla.page.waitForFunction(() => window.__calls.some((c) => c[0] === 'ForgetKey'));
  assert.deepEqual(await calls(carla, 'ForgetKey'), [['ForgetKey', 'h-t']]);
});

test('on a phone the rooms and the host list are a menu', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const eva = { name: 'Eva', context, page, dialogs: [], pageErrors: [] };
  await page.goto(BASE);
  await signIn(eva);
  const menu = page.getByRole('button', { name: 'Menu' });
  await menu.click();
  await page.locator('#menu-drawer button[data-room=general]').click();
  await page.locator('#room-title', { hasText: 'general' }).waitFor();
  await waitMessage(eva, 'after the restart');
  await shot(eva, '11-phone');
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
  await axe(eva, 'the phone layout');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await page.locator('#rail').getByText('Why don’t I see other computers?').waitFor();
  assert.ok(await page.locator('#rail').getByLabel('Language').isVisible(), 'the language switch is in the menu');
  await shot(eva, '12-phone-menu');
  await menu.click();
  // who is here: a drawer on a phone
  const who = page.getByRole('button', { name: /^Who is here \(\d+\)$/ });
  await who.click();
  assert.equal(await who.getAttribute('aria-expanded'), 'true');
  const list = page.locator('#members-panel [data-testid=members]');
  await list.locator('.name', { hasText: /^Eva$/ }).waitFor();
  assert.ok((await list.locator('li').count()) >= 2, 'the others in the room are listed too');
  await shot(eva, '13-phone-members');
  await axe(eva, 'the member drawer on a phone');
  await page.locator('#members-panel').getByRole('button', { name: 'Close' }).click();
  await list.waitFor({ state: 'hidden' });
  assert.equal(await who.getAttribute('aria-expanded'), 'false');
  await context.close();
});

test('the name, and the room on screen, are remembered', async () => {
  const { ana } = users;
  await openRoom(ana, 'general');
  await ana.page.reload();
  await online(ana);
  await ana.page.getByText('Você é Ana').waitFor();
  await ana.page.locator('button[data-room="general"][aria-current=true]').waitFor({ state: 'attached' });
  for (const u of Object.values(users)) assert.deepEqual(u.pageErrors, [], `${u.name}: no script errors`);
});

test('Ctrl + and Ctrl 0 zoom the page for the projector, and the size is remembered', async () => {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(BASE);
  await page.getByLabel('Your name').waitFor();
  const zoom = () => page.evaluate(() => document.documentElement.dataset.zoom);
  assert.equal(await zoom(), '1');
  await page.keyboard.press('Control+Equal');
  await page.keyboard.press('Control+Equal');
  assert.equal(await zoom(), '1.25');
  await page.reload();
  await page.getByLabel('Your name').waitFor();
  assert.equal(await zoom(), '1.25', 'remembered across a reload');
  assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).zoom), '1.25', 'the whole page is scaled');
  await page.keyboard.press('Control+Minus');
  assert.equal(await zoom(), '1.1');
  await page.keyboard.press('Control+Digit0');
  assert.equal(await zoom(), '1');
  await context.close();
});

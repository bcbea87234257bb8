// What the browser end-to-end tests share: the lanchat host they run
// against, the browser, and the steps every test takes on a page. run.sh
// runs the tests inside a network namespace of their own.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

export const BIN = process.env.LANCHAT_BIN;
export const OUT = process.env.E2E_OUT ?? 'test-output/e2e';
export const TMP = process.env.E2E_TMP ?? mkdtempSync('/tmp/lanchat-e2e-');
export const WAIT = 20_000; // generous: a condition, not a timing

assert.ok(BIN && existsSync(BIN), 'LANCHAT_BIN must name the lanchat binary (run.sh sets it)');

/**
 * startServer runs `lanchat serve` on addr (127.0.0.1:PORT) with discovery
 * off, logging to OUT/log, and returns once /api/info answers on that port
 * (within wait ms: a box of a cluster answers only once a majority is up).
 * listen, when given, is what the host listens on instead (0.0.0.0:PORT:
 * every address of the test's namespace); addr is still how it is reached.
 */
export async function startServer({ addr, listen = addr, name, data, rooms, extra = [], log = 'server.log', wait = WAIT }) {
  const base = `http://${addr}/`;
  const port = Number(addr.split(':')[1]);
  const fd = openSync(join(OUT, log), 'a');
  const args = ['serve', '--addr', listen, '--data-dir', data, '--name', name, '--no-discovery'];
  if (rooms) args.push('--rooms', rooms);
  const proc = spawn(BIN, [...args, ...extra], { stdio: ['ignore', fd, fd] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + wait;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`lanchat serve exited with ${proc.exitCode}; see ${OUT}/${log}`);
    try {
      const r = await fetch(base + 'api/info');
      if (r.ok) {
        const info = await r.json();
        assert.equal(info.port, port, 'the host must listen on the port asked for');
        break;
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('lanchat serve did not come up');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, exited };
}

/** killServer ends a host the hard way (kill -9) and waits for it. */
export async function killServer(s) {
  if (s && s.proc.exitCode === null) {
    s.proc.kill('SIGKILL');
    await s.exited;
  }
}

/** launchBrowser starts Debian's Chromium, headless, with no network chatter of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** online waits until the page's connection status says online. */
export function online(x) {
  return x.page.locator('[data-testid=conn-status][data-status=online]').waitFor();
}

/** openRoom selects a room in the room list and waits for its composer. */
export async function openRoom(x, key) {
  const button = x.page.locator(`button[data-room="${key}"]`);
  // on a phone the rooms are in the menu drawer: open it first
  const menu = x.page.locator('[data-testid=menu-button]');
  if (!(await button.isVisible()) && (await menu.isVisible())) {
    await menu.click();
    await button.waitFor();
  }
  await button.click();
  await x.page.locator(`button[data-room="${key}"][aria-current=true]`).waitFor({ state: 'attached' }); // a phone's menu closes
  await x.page.locator('#composer').waitFor();
}

/** send types text in the composer and presses Enter. */
export async function send(x, text) {
  await x.page.locator('#composer').fill(text);
  await x.page.locator('#composer').press('Enter');
}

/** axe fails on any serious or critical axe-core finding on the page. */
export async function axe(x, label) {
  if (!(await x.page.evaluate(() => 'axe' in window))) await x.page.addScriptTag({ path: AXE });
  const res = await x.page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const detail = serious.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(detail, [], `axe-core findings on ${label}`);
}

/**
 * rawMembers connects members that have no UI, cheaper than a page each:
 * plain WebSockets opened in one page of the host's own origin (so the host
 * takes its Origin), each saying hello and keeping every frame it gets in
 * window.__frames[name]. The browser answers the host's pings. It returns
 * once every member has its welcome; close() drops them all.
 */
export async function rawMembers(browser, base, names) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(base + 'api/info');
  await page.evaluate(async (names) => {
    const url = location.origin.replace(/^http/, 'ws') + '/ws';
    window.__frames = {};
    window.__sockets = {};
    await Promise.all(
      names.map(
        (name) =>
          new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            const frames = (window.__frames[name] = []);
            window.__sockets[name] = ws;
            ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', version: 1, name }));
            ws.onmessage = (ev) => {
              for (const part of String(ev.data).split('\n')) {
                if (!part.trim()) continue;
                const f = JSON.parse(part);
                frames.push(f);
                if (f.type === 'welcome') resolve();
                if (f.type === 'error' && !frames.some((x) => x.type === 'welcome')) reject(new Error(`${name}: ${f.code}`));
              }
            };
            ws.onerror = () => reject(new Error(`${name}: the socket failed`));
          }),
      ),
    );
  }, names);
  return { page, close: () => context.close() };
}

/**
 * desktopContext opens a browser context whose pages run as the desktop app's
 * window would: the Wails bindings are stood in for. Self() answers the host
 * described by self (with the real host token when the test has one),
 * Settings() settings; ExportTranscript and, with hostName, SetHostName are
 * recorded in window.__calls, SaveSettings in window.__saved.
 */
export async function desktopContext(browser, { self, settings = { name: 'Teacher', language: '', data_dir: '/tmp/lanchat' }, hostName = false, options = {} }) {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 }, ...options });
  await context.addInitScript(
    ({ self, settings, hostName }) => {
      const calls = (window.__calls = []);
      const saved = (window.__saved = []);
      const app = {
        Self: async () => self,
        Settings: async () => settings,
        SaveSettings: async (s) => void saved.push(s),
        Peers: async () => [],
        AddPeer: async () => {
          throw new Error('no');
        },
        Diagnosis: async () => ({}),
        Notify: async () => {},
        ExportTranscript: async (room, format) => (calls.push(['ExportTranscript', room, format]), `/home/teacher/${room || 'all'}.${format}`),
      };
      if (hostName) app.SetHostName = async (n) => (calls.push(['SetHostName', n]), n);
      window.go = { app: { App: app } };
      window.runtime = { EventsOn: () => () => {} };
    },
    { self, settings, hostName },
  );
  return context;
}

/** desktopSelf is what the desktop app's Self() says of the host at addr (port on 127.0.0.1), with its host token. */
export async function desktopSelf(addr, token) {
  const base = `http://${addr}/`;
  const info = await (await fetch(base + 'api/info')).json();
  return { id: info.id, name: info.name, port: Number(addr.split(':')[1]), ws_url: `ws://${addr}/ws`, join_urls: [base], host_token: token, version: 'e2e' };
}

/** track follows a person's page in a test: its script errors (x.pageErrors), its dialogs dismissed, WAIT as its timeout. */
export function track(name, context, page) {
  const x = { name, context, page, pageErrors: [] };
  page.on('pageerror', (e) => x.pageErrors.push(String(e)));
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  page.setDefaultTimeout(WAIT);
  return x;
}

/** signIn opens base in a new browser context (a phone's, or a laptop's), goes in under name and waits until online. */
export async function signIn(browser, base, name, { phone = false, locale = 'en-US' } = {}) {
  const viewport = phone ? { width: 390, height: 844 } : { width: 1280, height: 800 };
  const context = await browser.newContext({ locale, colorScheme: 'light', viewport, isMobile: phone, hasTouch: phone });
  const page = await context.newPage();
  const u = track(name, context, page);
  await page.goto(base);
  await page.locator('#app input').first().fill(name);
  await page.locator('#app input').first().press('Enter');
  await online(u);
  return u;
}

/** teacher opens the desktop app's window on the host at addr, with the host's token, and goes in under the prefilled name. */
export async function teacher(browser, addr, token) {
  const context = await desktopContext(browser, { self: await desktopSelf(addr, token) });
  const page = await context.newPage();
  const t = track('Teacher', context, page);
  await page.goto(`http://${addr}/`);
  await page.getByLabel('Your name').waitFor();
  assert.equal(await page.getByLabel('Your name').inputValue(), 'Teacher', 'the name is prefilled from the settings');
  await page.keyboard.press('Enter');
  await online(t);
  return t;
}

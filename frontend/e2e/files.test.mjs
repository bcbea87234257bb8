// Browser end-to-end tests of files in messages: a teacher in the desktop
// app (the Wails bindings stood in for, with the real host token) and
// students in browsers, through a real `lanchat serve`. A large file goes
// up and comes down byte for byte; a pasted image shows inline and opens
// large; an upload survives a reload of the page; web pages and SVGs are
// downloaded, never rendered; and the host decides who may send files.
// run.sh starts this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, online, openRoom } from './harness.mjs';

const PORT = 47961;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'files-'));
const FILES = mkdtempSync(join(TMP, 'files-src-'));
const TOKEN_FILE = join(DATA, 'host-token');
const MB = 1 << 20;

let server;
let browser;
let token;
const u = {};

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 20', data: DATA, rooms: 'general', extra: ['--host-token-file', TOKEN_FILE], log: 'server-files.log' });
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

// ---- people and files -------------------------------------------------------

async function student(name, { phone = false } = {}) {
  const viewport = phone ? { width: 390, height: 844 } : { width: 1280, height: 800 };
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport, isMobile: phone, hasTouch: phone });
  const page = await context.newPage();
  const s = harness.track(name, context, page);
  await page.goto(BASE);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Your name').press('Enter');
  await online(s);
  return s;
}

/** sourceFile writes a file to send and returns its path and SHA-256. */
function sourceFile(name, bytes) {
  const path = join(FILES, name);
  writeFileSync(path, bytes);
  return { path, name, size: bytes.length, sha: sha256(bytes) };
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** message is x's message in the room on screen that carries the file called name. */
function message(x, name) {
  return x.page.locator('[data-testid=message]', { has: x.page.locator(`[data-name="${name}"]`) });
}

/** attach picks files with the composer's attach button (its file chooser). */
async function attach(x, ...paths) {
  const [chooser] = await Promise.all([x.page.waitForEvent('filechooser'), x.page.locator('[data-testid=attach]').click()]);
  await chooser.setFiles(paths);
  for (const p of paths) await x.page.locator(`[data-testid=staged] li[data-name="${p.split('/').pop()}"]`).waitFor();
}

/** sendStaged sends what is attached, with text (Enter in the composer). */
async function sendStaged(x, text = '') {
  await x.page.locator('#composer').fill(text);
  await x.page.locator('#composer').press('Enter');
  await x.page.locator('[data-testid=staged]').waitFor({ state: 'detached' });
}

/** download clicks a download link and returns the download, once saved, with its bytes' SHA-256. */
async function download(x, link) {
  const before = x.page.url();
  const [dl] = await Promise.all([x.page.waitForEvent('download'), link.click()]);
  const path = await dl.path();
  assert.equal(x.page.url(), before, 'the page stays where it was');
  return { dl, sha: sha256(readFileSync(path)), size: readFileSync(path).length };
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, `files-${name}.png`) });
}

// ---- the tests ---------------------------------------------------------------

test('a 50 MB file goes up from one person and comes down to another byte for byte', async () => {
  u.teacher = await harness.teacher(browser, ADDR, token);
  u.ana = await student('Ana');
  u.bruno = await student('Bruno');
  for (const x of [u.teacher, u.ana, u.bruno]) await openRoom(x, 'general');

  const big = sourceFile('dados da turma.bin', randomBytes(50 * MB));
  await attach(u.ana, big.path);
  await u.ana.page.locator('[data-testid=staged] li', { hasText: '50 MB' }).waitFor();
  await sendStaged(u.ana, 'the data set');
  // pending with its upload, then sent like any message
  await message(u.ana, big.name).waitFor();
  await message(u.ana, big.name).and(u.ana.page.locator('[data-state=sent]')).locator('[data-testid=attachment-file]').waitFor();

  const card = message(u.bruno, big.name).locator('[data-testid=attachment-file]');
  await card.waitFor();
  assert.match(await card.textContent(), /50 MB/);
  const link = card.getByRole('link', { name: `Download ${big.name}` });
  const got = await download(u.bruno, link);
  assert.equal(got.dl.suggestedFilename(), big.name);
  assert.equal(got.size, big.size);
  assert.equal(got.sha, big.sha, 'the file that came down is the one that went up');
  await shot(u.bruno, '01-file-card');
  await axe(u.bruno, 'a message with a file');
});

test('an image pasted by one person shows inline to the others, and opens large and closes with the keyboard', async () => {
  const ap = u.ana.page;
  // a PNG drawn in the page and pasted into the composer, as a screenshot would be
  await ap.locator('#composer').focus();
  await ap.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 400;
    c.height = 300;
    const g = c.getContext('2d');
    g.fillStyle = '#1d4ed8';
    g.fillRect(0, 0, 400, 300);
    g.fillStyle = '#fde047';
    g.fillRect(50, 50, 300, 100);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'quadro.png', { type: 'image/png' }));
    document.querySelector('#composer').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await ap.locator('[data-testid=staged] li[data-name="quadro.png"] img').waitFor();
  await sendStaged(u.ana, 'the board');

  for (const x of [u.bruno, u.teacher]) {
    const button = message(x, 'quadro.png').locator('[data-testid=attachment-image]');
    const img = button.locator('img');
    await img.waitFor();
    // the thumbnail loads; its room is reserved at the image's shape (400×300 in a 240 box)
    await x.page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
    assert.equal(await img.getAttribute('alt'), 'quadro.png');
    assert.deepEqual([await img.getAttribute('width'), await img.getAttribute('height')], ['240', '180']);
    assert.match(await img.getAttribute('src'), /\/files\/[0-9a-f]{64}\?room=general&seq=\d+&key=/);
  }
  const bp = u.bruno.page;
  const thumb = message(u.bruno, 'quadro.png').locator('[data-testid=attachment-image]');
  await shot(u.bruno, '02-inline-image');

  // the keyboard opens it: the dialog takes the focus, the large image loads, Escape closes, the focus comes back
  await thumb.focus();
  await bp.keyboard.press('Enter');
  const dialog = bp.getByRole('dialog', { name: 'quadro.png' });
  await dialog.waitFor();
  const large = dialog.getByRole('img', { name: 'quadro.png' });
  await bp.waitForFunction((el) => el.complete && el.naturalWidth === 400, await large.elementHandle());
  await bp.waitForFunction(() => !!document.activeElement?.closest('[data-testid=image-preview]'));
  await shot(u.bruno, '03-preview');
  await axe(u.bruno, 'the image preview');
  await bp.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await bp.waitForFunction(() => document.activeElement?.matches('[data-testid=attachment-image]') === true);
  // and again, closed with its button
  await bp.keyboard.press('Enter');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Close' }).press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await bp.waitForFunction(() => document.activeElement?.matches('[data-testid=attachment-image]') === true);
  for (const x of [u.ana, u.bruno, u.teacher]) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
});

/** fileDrag is a drag of a small text file, as from the desktop. */
function fileDrag(x, name) {
  return x.page.evaluateHandle((name) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['uma lista\n'], name, { type: 'text/plain' }));
    return dt;
  }, name);
}

test('files dropped on the conversation are attached, with a drop zone while they are over it', async () => {
  const bp = u.bruno.page;
  const dt = await fileDrag(u.bruno, 'lista.txt');
  const over = bp.locator('[data-testid=message]').first();
  await over.dispatchEvent('dragenter', { dataTransfer: dt });
  await over.dispatchEvent('dragover', { dataTransfer: dt });
  const zone = bp.locator('[data-testid=drop-zone]');
  await zone.waitFor();
  assert.match(await zone.textContent(), /Drop the files here to send them to general/);
  await shot(u.bruno, '03b-drop-zone');
  await over.dispatchEvent('drop', { dataTransfer: dt });
  await zone.waitFor({ state: 'detached' });
  await bp.locator('[data-testid=staged] li[data-name="lista.txt"]').waitFor();
  await sendStaged(u.bruno, 'the list');
  await message(u.ana, 'lista.txt').locator('[data-testid=attachment-file]').waitFor();
});

test('an upload can be cancelled: the message goes, and the host deletes what it had', async () => {
  const ap = u.ana.page;
  const file = sourceFile('rascunho.bin', randomBytes(12 * MB));
  let patches = 0;
  const held = [];
  let heldOne;
  const holding = new Promise((r) => (heldOne = r));
  await ap.route('**/files/uploads/**', (route) => {
    if (route.request().method() === 'PATCH' && ++patches >= 2) {
      held.push(route);
      heldOne();
      return;
    }
    return route.continue();
  });
  const deleted = ap.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().includes('/files/uploads/'));
  await attach(u.ana, file.path);
  await sendStaged(u.ana, 'a draft');
  const msg = message(u.ana, file.name);
  await msg.locator('[data-testid=upload][data-state=uploading]').waitFor();
  await holding;
  await msg.getByRole('button', { name: 'Cancel sending' }).click();
  await msg.waitFor({ state: 'detached' });
  assert.equal((await deleted).status(), 204, 'the host deleted the upload');
  for (const r of held) await r.abort().catch(() => {});
  await ap.unroute('**/files/uploads/**');
  assert.equal(await ap.locator('[data-testid=unfinished]').count(), 0, 'nothing is offered again');
  assert.equal(await message(u.bruno, file.name).count(), 0, 'nobody else saw it');
});

test('a connection cut off mid-upload: tus asks where it stood and goes on, without starting over', async () => {
  const ap = u.ana.page;
  const file = sourceFile('fotos.zip', randomBytes(20 * MB));
  let patches = 0;
  const seen = [];
  await ap.route('**/files/uploads/**', (route) => {
    const method = route.request().method();
    seen.push(method);
    // the second part's request is cut off, as a Wi-Fi blip would
    if (method === 'PATCH' && ++patches === 2) return route.abort('connectionreset');
    return route.continue();
  });
  await attach(u.ana, file.path);
  await sendStaged(u.ana, 'the photos');
  await message(u.ana, file.name).and(ap.locator('[data-state=sent]')).locator('[data-testid=attachment-file]').waitFor();
  await ap.unroute('**/files/uploads/**');
  assert.deepEqual(seen, ['POST', 'PATCH', 'PATCH', 'HEAD', 'PATCH', 'PATCH'], 'one upload: after the cut, a HEAD, then the rest');
  const got = await download(u.bruno, message(u.bruno, file.name).getByRole('link', { name: `Download ${file.name}` }));
  assert.equal(got.sha, file.sha);
});

test('an upload survives a reload: the same file picked again goes on where it stopped', async () => {
  const ap = u.ana.page;
  const file = sourceFile('video da aula.bin', randomBytes(20 * MB));
  // the host gets the first part; the second waits until the page is reloaded
  let patches = 0;
  const held = [];
  let heldOne;
  const holding = new Promise((r) => (heldOne = r));
  await ap.route('**/files/uploads/**', (route) => {
    if (route.request().method() === 'PATCH' && ++patches >= 2) {
      held.push(route);
      heldOne();
      return;
    }
    return route.continue();
  });
  await attach(u.ana, file.path);
  await sendStaged(u.ana, 'the recording');
  const upload = message(u.ana, file.name).locator('[data-testid=upload][data-state=uploading] progress');
  await upload.waitFor();
  await holding;
  // the progress bar moved
  await ap.waitForFunction((el) => Number(el.dataset.sent) > 0, await upload.elementHandle());
  await shot(u.ana, '04-uploading');

  await ap.reload();
  for (const r of held) await r.abort().catch(() => {});
  await ap.unroute('**/files/uploads/**');
  await online(u.ana);
  await openRoom(u.ana, 'general');
  // the page remembers the message whose file had not finished, and offers to go on
  const offer = ap.locator('[data-testid=unfinished]', { hasText: file.name });
  await offer.waitFor();
  assert.match(await offer.textContent(), /40%/, 'it says how far it got (8 of 20 MB)');
  await shot(u.ana, '05-unfinished');
  await axe(u.ana, 'an unfinished upload offered again');

  const seen = [];
  ap.on('response', (r) => {
    if (r.url().includes('/files/uploads/')) seen.push({ method: r.request().method(), status: r.status(), offset: r.headers()['upload-offset'] });
  });
  const [chooser] = await Promise.all([ap.waitForEvent('filechooser'), offer.getByRole('button', { name: 'Choose again' }).click()]);
  await chooser.setFiles(file.path);
  await offer.waitFor({ state: 'detached' });
  await message(u.ana, file.name).and(ap.locator('[data-state=sent]')).locator('[data-testid=attachment-file]').waitFor();
  const head = seen.find((s) => s.method === 'HEAD');
  assert.ok(head, 'tus asked the host where the upload stood');
  assert.equal(head.status, 200);
  assert.equal(Number(head.offset), 8 * MB, 'the host had the first part: the upload went on from there');
  assert.deepEqual(
    seen.filter((s) => s.method === 'POST'),
    [],
    'no new upload was started',
  );
  const patched = seen.filter((s) => s.method === 'PATCH').map((s) => Number(s.offset));
  assert.deepEqual(patched, [16 * MB, 20 * MB], 'the rest went up from 8 MB on');

  const got = await download(u.bruno, message(u.bruno, file.name).getByRole('link', { name: `Download ${file.name}` }));
  assert.equal(got.sha, file.sha, 'the resumed file is whole');
});

test('a web page and an SVG with scripts are downloaded, never shown, and run nothing', async () => {
  const script = `<script>window.top.__ran = (window.top.__ran || 0) + 1; document.title = 'ran'; fetch('/api/ran')</script>`;
  const html = sourceFile('trabalho.html', Buffer.from(`<!doctype html><html><body><h1>hi</h1>${script}</body></html>`));
  const svg = sourceFile('desenho.svg', Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/>${script}</svg>`));
  await attach(u.ana, html.path, svg.path);
  await sendStaged(u.ana, 'two files');
  const bp = u.bruno.page;
  const title = await bp.title();
  const ran = [];
  bp.on('request', (r) => r.url().includes('/api/ran') && ran.push(r.url()));
  for (const f of [html, svg]) {
    const card = message(u.bruno, f.name).locator(`[data-testid=attachment-file][data-name="${f.name}"]`);
    await card.waitFor();
    const pagesBefore = u.bruno.context.pages().length;
    const got = await download(u.bruno, card.getByRole('link', { name: `Download ${f.name}` }));
    assert.equal(got.dl.suggestedFilename(), f.name);
    assert.equal(got.sha, f.sha);
    assert.equal(u.bruno.context.pages().length, pagesBefore, 'no page opened');
  }
  // no image of the SVG in the page either
  assert.equal(await message(u.bruno, svg.name).locator('img').count(), 0);

  // the file's address opened directly is a download as well, for the SVG and the page alike
  const other = await u.bruno.context.newPage();
  for (const f of [html, svg]) {
    const href = await message(u.bruno, f.name).getByRole('link', { name: `Download ${f.name}` }).getAttribute('href');
    const url = href.replace('&download=1', '');
    const [dl] = await Promise.all([other.waitForEvent('download'), other.goto(new URL(url, BASE).toString()).catch(() => {})]);
    await dl.path();
  }
  await other.close();
  assert.equal(await bp.title(), title, 'no script changed the page');
  assert.equal(await bp.evaluate(() => window.__ran), undefined, 'no script ran');
  assert.deepEqual(ran, [], 'no script called the host');
  assert.deepEqual(u.bruno.pageErrors, []);
});

test('the host lets only hosts send files: a student’s attach button goes, the host still sends', async () => {
  const tp = u.teacher.page;
  const ap = u.ana.page;
  await ap.locator('[data-testid=attach]').waitFor();
  await tp.getByRole('button', { name: 'Session card' }).click();
  const card = tp.locator('[data-testid=session-card]');
  const who = card.getByLabel('Who may send files');
  assert.equal(await who.inputValue(), 'everyone');
  await shot(u.teacher, '06-who-may-send');
  await who.selectOption('hosts');
  await tp.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });

  await ap.locator('[data-testid=attach-off]', { hasText: 'Only hosts send files here.' }).waitFor();
  assert.equal(await ap.locator('[data-testid=attach]').count(), 0, 'no attach button for a student');
  // a pasted file is refused with the reason, before anything is sent
  await ap.locator('#composer').focus();
  await ap.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['notes'], 'notes.txt', { type: 'text/plain' }));
    document.querySelector('#composer').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await ap.locator('[data-testid=composer-problem]', { hasText: 'Only hosts send files here.' }).waitFor();
  assert.equal(await ap.locator('[data-testid=staged]').count(), 0);
  // and a dragged file meets the reason, not a drop zone
  const dt = await fileDrag(u.ana, 'lista.txt');
  const over = ap.locator('#room-title');
  await over.dispatchEvent('dragenter', { dataTransfer: dt });
  await ap.locator('[data-testid=drop-zone][data-off=true]', { hasText: 'Only hosts send files here.' }).waitFor();
  await over.dispatchEvent('drop', { dataTransfer: dt });
  await ap.locator('[data-testid=drop-zone]').waitFor({ state: 'detached' });
  assert.equal(await ap.locator('[data-testid=staged]').count(), 0);
  await shot(u.ana, '07-files-for-hosts');

  // the host still sends
  const sheet = sourceFile('prova.pdf', Buffer.from('%PDF-1.4\n% a test\n'));
  await attach(u.teacher, sheet.path);
  await sendStaged(u.teacher, 'the test');
  const got = await download(u.ana, message(u.ana, sheet.name).getByRole('link', { name: `Download ${sheet.name}` }));
  assert.equal(got.sha, sheet.sha);

  // back to everyone: the button comes back
  await tp.getByRole('button', { name: 'Session card' }).click();
  await card.getByLabel('Who may send files').selectOption('everyone');
  await tp.keyboard.press('Escape');
  await ap.locator('[data-testid=attach]').waitFor();
  for (const x of [u.ana, u.bruno, u.teacher]) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
});

test('on a phone: the file picker and the camera, and a file with a long name fits the screen', async () => {
  const carla = await student('Carla', { phone: true });
  const { page } = carla;
  await openRoom(carla, 'general');
  await page.locator('[data-testid=attach]').waitFor();
  await page.locator('[data-testid=camera]').waitFor();
  const camera = page.locator('[data-testid=camera-input]');
  assert.equal(await camera.getAttribute('accept'), 'image/*');
  assert.equal(await camera.getAttribute('capture'), 'environment');
  const long = sourceFile('relatorio-final-do-projeto-de-robotica-da-turma-do-nono-ano.pdf', Buffer.from('%PDF-1.4\n'));
  await attach(carla, long.path);
  await message(carla, 'quadro.png').locator('[data-testid=attachment-image] img').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
  await shot(carla, '08-phone-staged');
  await axe(carla, 'the composer with a file on a phone');
  await sendStaged(carla);
  await message(carla, long.name).locator('[data-testid=attachment-file]').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'nothing sticks out sideways');
  await shot(carla, '09-phone-file');
  await carla.context.close();
});

// Browser end-to-end test of the text size (readable on a projector): at the
// default size (Normal, zoom 100 %) no visible text is below 14 px, on the
// first-run form or the chat screen; the Text size setting beside the
// language makes the conversation larger at once, is remembered across a
// reload, is in Portuguese too, and goes with the Ctrl zoom. The layout fits
// at 1280x800, 1024x640 and on a phone. run.sh starts this inside a network
// namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, rawMembers, send } from './harness.mjs';

const ADDR = '127.0.0.1:47921';
const BASE = `http://${ADDR}/`;
const SMALLEST = 14; // px, at Normal and zoom 100 %
let server;
let browser;
let others;

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 12', data: mkdtempSync(join(TMP, 'textsize-')), rooms: 'general', log: 'textsize-server.log' });
  browser = await launchBrowser();
});

after(async () => {
  await others?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await killServer(server);
});

/**
 * tooSmall lists every visible element with text of its own (a text node,
 * or a form control) whose computed font size is below min px, as
 * "text (tag.class): size". Visually hidden text (1 px boxes) is skipped.
 */
function tooSmall(page, min = SMALLEST) {
  return page.evaluate((min) => {
    const out = [];
    let seen = 0;
    for (const el of document.body.querySelectorAll('*')) {
      const control = ['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(el.tagName);
      const text = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent.trim()).join(' ').trim();
      if (!text && !control) continue;
      if (!el.checkVisibility({ visibilityProperty: true })) continue;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) continue;
      seen++;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < min) {
        const label = text || el.value || el.getAttribute('placeholder') || el.getAttribute('aria-label') || '';
        out.push(`"${label.slice(0, 40)}" (${el.tagName.toLowerCase()}${String(el.className).split(' ').filter((c) => c && !c.startsWith('svelte-')).map((c) => '.' + c).join('')}): ${size}px`);
      }
    }
    return { seen, offenders: out };
  }, min);
}

async function assertReadable(page, where) {
  const { seen, offenders } = await tooSmall(page);
  assert.ok(seen >= 5, `${where}: the walk found text to check (${seen})`);
  assert.deepEqual(offenders, [], `${where}: text below ${SMALLEST}px:\n  ${offenders.join('\n  ')}`);
}

/** fits: nothing sticks out sideways, and the composer is on the screen. */
async function assertFits(page, where) {
  const { sw, cw, composer, vw, vh } = await page.evaluate(() => {
    const c = document.querySelector('#composer')?.getBoundingClientRect();
    return {
      sw: document.documentElement.scrollWidth,
      cw: document.documentElement.clientWidth,
      composer: c && { left: c.left, right: c.right, top: c.top, bottom: c.bottom, width: c.width },
      vw: innerWidth,
      vh: innerHeight,
    };
  });
  assert.ok(sw <= cw, `${where}: nothing sticks out sideways (${sw} > ${cw})`);
  if (composer) {
    assert.ok(composer.left >= 0 && composer.right <= vw && composer.top >= 0 && composer.bottom <= vh, `${where}: the composer is on the screen ${JSON.stringify(composer)}`);
    assert.ok(composer.width >= 200, `${where}: the composer has room to type (${composer.width}px)`);
  }
}

const shot = (page, name) => page.screenshot({ path: join(OUT, `textsize-${name}.png`) });
const rootSize = (page) => page.evaluate(() => document.documentElement.dataset.textSize ?? 'normal');
const messageSize = (page, text) =>
  page.locator('[data-testid=message] .body', { hasText: text }).first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));

test('no text below 14 px at the default size; Presentation makes the conversation larger and is remembered', async () => {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.setDefaultTimeout(WAIT);
  await page.goto(BASE);

  // the first-run form, with the text size beside the language
  await page.getByLabel('Your name').waitFor();
  assert.equal(await page.getByLabel('Text size').inputValue(), 'normal');
  await assertReadable(page, 'the first-run form');
  await shot(page, '01-first-run-normal-en');
  await axe({ page }, 'the first-run form');

  await page.getByLabel('Your name').fill('Ana');
  await page.getByLabel('Your name').press('Enter');
  await online({ page });
  others = await rawMembers(browser, BASE, ['Bruno']);
  await page.locator('[data-testid=notice]', { hasText: 'Bruno joined' }).waitFor();
  await page.locator('[data-testid=members] li .name', { hasText: /^Bruno$/ }).waitFor();
  await send({ page }, 'Good morning, everyone: today we read chapter 3.');
  await page.locator('[data-testid=message][data-state=sent]', { hasText: 'chapter 3' }).waitFor();
  await page.locator('[data-testid=conn-status]').waitFor();
  await page.locator('button[data-room=general]').waitFor();

  await assertReadable(page, 'the chat screen');
  await assertFits(page, 'the chat screen at 1280x800');
  await shot(page, '02-chat-normal-en');
  await axe({ page }, 'the chat screen');
  const normal = await messageSize(page, 'chapter 3');

  // Presentation, at once, without a reload
  await page.getByLabel('Text size').selectOption('presentation');
  assert.equal(await rootSize(page), 'presentation');
  const presenting = await messageSize(page, 'chapter 3');
  assert.ok(presenting >= normal * 1.5, `the message text grew by half or more: ${normal}px → ${presenting}px`);
  await assertFits(page, 'Presentation at 1280x800');
  await shot(page, '03-chat-presentation-en');
  await axe({ page }, 'the chat screen in Presentation');

  // remembered across a reload
  await page.reload();
  await online({ page });
  await page.locator('[data-testid=message]', { hasText: 'chapter 3' }).waitFor();
  assert.equal(await page.getByLabel('Text size').inputValue(), 'presentation');
  assert.equal(await messageSize(page, 'chapter 3'), presenting, 'the same size after a reload');

  // the Ctrl zoom still works, on top of the text size, and Ctrl 0 undoes only the zoom
  await page.locator('#composer').focus();
  await page.keyboard.press('Control+=');
  await page.waitForFunction(() => document.documentElement.dataset.zoom === '1.1');
  assert.equal(await rootSize(page), 'presentation', 'the zoom keeps the text size');
  await page.keyboard.press('Control+0');
  await page.waitForFunction(() => document.documentElement.dataset.zoom === '1');
  assert.equal(await rootSize(page), 'presentation', 'Ctrl 0 resets the zoom, not the text size');

  // in Portuguese
  await page.getByLabel('Language').selectOption('pt-BR');
  const picker = page.getByLabel('Tamanho do texto');
  await picker.waitFor();
  assert.equal(await picker.locator('option:checked').textContent(), 'Apresentação');
  assert.deepEqual(await picker.locator('option').allTextContents(), ['Normal', 'Grande', 'Apresentação']);
  await shot(page, '04-chat-presentation-pt-BR');
  await picker.selectOption('large');
  const large = await messageSize(page, 'chapter 3');
  assert.ok(large > normal && large < presenting, `Grande is between: ${normal} < ${large} < ${presenting}`);
  await picker.selectOption('normal');
  assert.equal(await rootSize(page), 'normal');
  assert.equal(await messageSize(page, 'chapter 3'), normal, 'back to the first size');
  await assertReadable(page, 'the chat screen in Portuguese');
  await shot(page, '05-chat-normal-pt-BR');
  await axe({ page }, 'the chat screen in Portuguese');

  // a smaller window: still fits, still readable
  await page.setViewportSize({ width: 1024, height: 640 });
  await assertReadable(page, 'the chat screen at 1024x640');
  await assertFits(page, 'the chat screen at 1024x640');
  await shot(page, '06-chat-normal-pt-BR-1024');
  await page.getByLabel('Tamanho do texto').selectOption('presentation');
  await assertFits(page, 'Presentation at 1024x640');
  await shot(page, '07-chat-presentation-pt-BR-1024');
  await page.getByLabel('Tamanho do texto').selectOption('normal');

  // the Ctrl zoom makes room the same way: at 150 % the member list becomes a drawer
  await page.setViewportSize({ width: 1280, height: 800 });
  const who = page.getByRole('button', { name: /^Quem está aqui/ });
  assert.equal(await who.isVisible(), false, 'at 100 % the member list is a column');
  await page.locator('#composer').focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('Control+=');
  await page.waitForFunction(() => document.documentElement.dataset.zoom === '1.5');
  await who.waitFor();
  await assertFits(page, 'zoom 150 % at 1280x800');
  await shot(page, '08-chat-normal-pt-BR-zoom150');
  await page.keyboard.press('Control+0');
  await who.waitFor({ state: 'hidden' });
  assert.deepEqual(errors, [], 'no script errors');
  await context.close();
});

test('on a phone: readable at the default size, and Presentation fits', async () => {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(BASE);
  await page.getByLabel('Your name').waitFor();
  await assertReadable(page, 'the first-run form on a phone');
  await shot(page, '09-phone-first-run');
  await page.getByLabel('Your name').fill('Carla');
  await page.getByLabel('Your name').press('Enter');
  await online({ page });
  await page.locator('[data-testid=message]', { hasText: 'chapter 3' }).waitFor();
  await assertReadable(page, 'the chat screen on a phone');
  await assertFits(page, 'the chat screen on a phone');
  await shot(page, '10-phone-chat-normal');

  const menu = page.locator('[data-testid=menu-button]');
  await menu.click();
  await page.locator('#rail').getByLabel('Text size').selectOption('presentation');
  await shot(page, '11-phone-menu-presentation');
  await menu.click();
  await assertFits(page, 'Presentation on a phone');
  await shot(page, '12-phone-chat-presentation');
  await axe({ page }, 'the phone in Presentation');
  await context.close();
});

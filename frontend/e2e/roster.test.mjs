// Browser end-to-end test of the member list of a class: a teacher in the
// desktop app (the Wails bindings stood in for, with the host token that
// `lanchat serve --host-token-file` made), 24 students on plain WebSockets and
// one in a browser. The "⋯" menu of a row by keyboard, the confirmation
// before removing someone, the search box, and the class list that tells who
// has not come yet; in English and Portuguese, on a laptop and a phone.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, WAIT, axe, killServer, launchBrowser, online, rawMembers } from './harness.mjs';

const PORT = 47923;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'roster-'));
const TOKEN_FILE = join(DATA, 'host-token');

// 24 students without a page, and Lia in a browser: 25 students
const STUDENTS = [
  'Ana Souza',
  'Bruno Costa',
  'Carla Dias',
  'Conceição Reis',
  'Davi Melo',
  'Elisa Rocha',
  'Fábio Nunes',
  'Gabriela Lima',
  'Heitor Alves',
  'Isadora Ramos',
  'João Pedro',
  'Joana Lima',
  'Karina Farias',
  'Lucas Moreira',
  'Marina Castro',
  'Nicolas Prado',
  'Otávio Souza',
  'Paula Freitas',
  'Rafael Gomes',
  'Sofia Barros',
  'Tiago Pires',
  'Valentina Cruz',
  'Vinícius Araújo',
  'Yasmin Duarte',
];

let server;
let browser;
let token;
let raw;
let late;
let t; // the teacher
let lia; // a student in a browser



async function student(name) {
  const context = await browser.newContext({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const x = harness.track(name, context, page);
  await page.goto(BASE);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Your name').press('Enter');
  await online(x);
  return x;
}

function member(x, name) {
  return x.page.locator('[data-testid=members] li.member', { has: x.page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });
}

/** focusIs waits until the focused element has this role and accessible text (and says which has it if none does). */
async function focusIs(x, role, text) {
  try {
    await x.page.waitForFunction(
      ([role, text]) => {
        const el = document.activeElement;
        if (!el) return false;
        const r = el.getAttribute('role') ?? el.tagName.toLowerCase();
        const name = el.getAttribute('aria-label') ?? el.textContent.trim();
        return r === role && name === text;
      },
      [role, text],
    );
  } catch (e) {
    const now = await x.page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200));
    throw new Error(`the focus is not on the ${role} "${text}" but on ${now}`, { cause: e });
  }
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, name + '.png') });
}

before(async () => {
  server = await harness.startServer({ addr: ADDR, name: 'Sala 7B', data: DATA, extra: ['--host-token-file', TOKEN_FILE], log: 'server-roster.log' });
  token = readFileSync(TOKEN_FILE, 'utf8').trim();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await killServer(server);
});

test('a class of 25: one compact row each, and a "⋯" menu the keyboard works', async () => {
  t = await harness.teacher(browser, ADDR, token);
  raw = await rawMembers(browser, BASE, STUDENTS);
  lia = await student('Lia Teixeira');
  const p = t.page;
  await p.locator('#members-title', { hasText: '(26)' }).waitFor();
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 26);
  // no inline actions any more: one button per row, none on oneself
  assert.equal(await p.locator('[data-testid=members] li.member button').count(), 25);
  assert.equal(await member(t, 'Teacher').locator('button').count(), 0, 'no actions on oneself');

  const dots = p.getByRole('button', { name: 'Actions for Bruno Costa' });
  assert.equal(await dots.getAttribute('aria-haspopup'), 'menu');
  assert.equal(await dots.getAttribute('aria-expanded'), 'false');
  await dots.focus();
  await p.keyboard.press('Enter');
  const menu = p.getByRole('menu', { name: 'Actions for Bruno Costa' });
  await menu.waitFor();
  assert.equal(await dots.getAttribute('aria-expanded'), 'true');
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), [
    'Message privately',
    'Mute',
    'Make co-host',
    'Remove from the chat…',
    'Ban for this session…',
  ]);
  await focusIs(t, 'menuitem', 'Message privately');
  await p.keyboard.press('ArrowDown');
  await focusIs(t, 'menuitem', 'Mute');
  await p.keyboard.press('ArrowUp');
  await p.keyboard.press('ArrowUp');
  await focusIs(t, 'menuitem', 'Ban for this session…');
  await p.keyboard.press('ArrowDown');
  await focusIs(t, 'menuitem', 'Message privately');
  await p.keyboard.press('End');
  await focusIs(t, 'menuitem', 'Ban for this session…');
  await p.keyboard.press('Home');
  await focusIs(t, 'menuitem', 'Message privately');
  await shot(t, 'roster-01-menu-en');
  await axe(t, 'the member menu open');
  // Escape closes it and gives the focus back to the button
  await p.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  await focusIs(t, 'button', 'Actions for Bruno Costa');
  assert.equal(await dots.getAttribute('aria-expanded'), 'false');

  // mute from the keyboard: ArrowDown on the button opens the menu too
  await p.keyboard.press('ArrowDown');
  await focusIs(t, 'menuitem', 'Message privately');
  await p.keyboard.press('ArrowDown');
  await p.keyboard.press('Enter');
  await member(t, 'Bruno Costa').locator('[data-testid=muted]').waitFor();
  await focusIs(t, 'button', 'Actions for Bruno Costa');
  await p.keyboard.press('Enter');
  await menu.getByRole('menuitem', { name: 'Unmute' }).click();
  await member(t, 'Bruno Costa').locator('[data-testid=muted]').waitFor({ state: 'detached' });

  // a press anywhere else closes the menu
  await dots.click();
  await menu.waitFor();
  await p.locator('#members-title').click();
  await menu.waitFor({ state: 'detached' });
  assert.deepEqual(t.pageErrors, []);
});

test('removing someone asks first; Escape keeps them', async () => {
  const p = t.page;
  const dots = p.getByRole('button', { name: 'Actions for Bruno Costa' });
  await dots.focus();
  await p.keyboard.press('Enter');
  await p.getByRole('menuitem', { name: 'Remove from the chat…' }).focus();
  await p.keyboard.press('Enter');
  const ask = p.getByRole('dialog', { name: 'Remove Bruno Costa from the chat? They can join again.' });
  await ask.waitFor();
  // the confirmation has the focus: Enter would confirm, Escape cancels
  await focusIs(t, 'button', 'Confirm removal of Bruno Costa from the chat');
  await p.keyboard.press('Escape');
  await ask.waitFor({ state: 'detached' });
  await focusIs(t, 'button', 'Actions for Bruno Costa');
  assert.equal(await member(t, 'Bruno Costa').count(), 1, 'Bruno is still here');

  // again, and this time confirmed
  await p.keyboard.press('Enter');
  await p.getByRole('menuitem', { name: 'Remove from the chat…' }).click();
  await ask.waitFor();
  await focusIs(t, 'button', 'Confirm removal of Bruno Costa from the chat');
  await shot(t, 'roster-02-confirm-remove-en');
  await axe(t, 'the confirmation before removing someone');
  await p.keyboard.press('Enter');
  await member(t, 'Bruno Costa').waitFor({ state: 'detached' });
  // the row went away: the focus is on the search box, not lost
  await p.waitForFunction(() => document.activeElement?.id === 'member-search');
  await p.locator('#members-title', { hasText: '(25)' }).waitFor();
  await raw.page.waitForFunction(() => window.__frames['Bruno Costa'].some((f) => f.type === 'error' && f.code === 'kicked'));
});

test('the search box filters the list, accents and case aside', async () => {
  const p = t.page;
  const box = p.getByLabel('Find someone in this room');
  const names = () => p.$$eval('[data-testid=members] li.member .name', (els) => els.map((e) => e.textContent.trim()));
  await box.fill('JOAO');
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 1);
  assert.deepEqual(await names(), ['João Pedro']);
  await box.fill('ceiçao');
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 1);
  assert.deepEqual(await names(), ['Conceição Reis']);
  await box.fill('lima');
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 2);
  assert.deepEqual(await names(), ['Gabriela Lima', 'Joana Lima']);
  await shot(t, 'roster-03-search-en');
  await box.fill('zzz');
  await p.locator('[data-testid=member-search-status]', { hasText: 'No one here has “zzz” in their name.' }).waitFor();
  assert.equal(await p.locator('[data-testid=members] li.member').count(), 0);
  await box.fill('');
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 25);
});

test('the class list says who of the class is here and who has not come yet', async () => {
  const p = t.page;
  const toggle = p.getByRole('button', { name: 'Class list' });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const field = p.getByLabel('Class list: one name per line');
  await focusIs(t, 'textarea', '');
  await field.fill('Ana Souza\n\njoao pedro\nCONCEICAO REIS\nZeca Urubu\nMaria Antônia\n');
  await shot(t, 'roster-04-class-list-edit-en');
  await axe(t, 'the class list being edited');
  await p.getByRole('button', { name: 'Save list' }).click();
  await focusIs(t, 'button', 'Class list');
  await p.locator('[data-testid=roster-count]', { hasText: /^3 of 5 here$/ }).waitFor();
  const missing = p.locator('[data-testid=roster-missing] li');
  assert.deepEqual(await missing.allTextContents(), ['Zeca Urubu', 'Maria Antônia']);
  await p.getByRole('heading', { name: 'Not here yet (2)' }).waitFor();
  // the names not here have no actions
  assert.equal(await p.locator('[data-testid=roster-missing] button').count(), 0);
  await shot(t, 'roster-05-class-list-en');
  await p.locator('[data-testid=roster-missing]').scrollIntoViewIfNeeded();
  await shot(t, 'roster-05b-not-here-yet-en');
  await axe(t, 'the member list with a class list');

  // the search box filters those not here too
  const box = p.getByLabel('Find someone in this room');
  await box.fill('zeca');
  await p.waitForFunction(() => document.querySelectorAll('[data-testid=members] li.member').length === 0);
  assert.deepEqual(await missing.allTextContents(), ['Zeca Urubu']);
  await box.fill('');

  // someone of the list arrives (the name typed otherwise): one more here
  late = await rawMembers(browser, BASE, ['zeca urubu']);
  await p.locator('[data-testid=roster-count]', { hasText: /^4 of 5 here$/ }).waitFor();
  assert.deepEqual(await missing.allTextContents(), ['Maria Antônia']);

  // the list stays on this computer for this host
  await p.reload();
  await online(t);
  await p.locator('[data-testid=roster-count]', { hasText: /^4 of 5 here$/ }).waitFor();
  const kept = await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('lanchat.roster.')));
  assert.equal(kept.length, 1, 'one class list, under the host id');
  assert.deepEqual(t.pageErrors, []);
});

test('a student sees only "Message privately", and no class list', async () => {
  const p = lia.page;
  await p.locator('#members-title', { hasText: '(26)' }).waitFor();
  assert.equal(await p.getByRole('button', { name: 'Class list' }).count(), 0);
  assert.equal(await p.locator('[data-testid=roster-count]').count(), 0);
  await p.getByRole('button', { name: 'Actions for Teacher' }).click();
  const menu = p.getByRole('menu', { name: 'Actions for Teacher' });
  await menu.waitFor();
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), ['Message privately']);
  await focusIs(lia, 'menuitem', 'Message privately');
  await shot(lia, 'roster-06-guest-menu-en');
  await axe(lia, 'the member menu of a student');
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Private conversation with Teacher', level: 2 }).waitFor();
  assert.deepEqual(lia.pageErrors, []);
});

test('in Portuguese, and on a phone', async () => {
  const p = t.page;
  await p.getByLabel('Language').selectOption('pt-BR');
  await p.locator('[data-testid=roster-count]', { hasText: /^4 de 5 presentes$/ }).waitFor();
  await p.getByRole('heading', { name: 'Ainda não chegaram (1)' }).waitFor();
  const dots = p.getByRole('button', { name: 'Ações para Carla Dias' });
  await dots.click();
  const menu = p.getByRole('menu', { name: 'Ações para Carla Dias' });
  assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), [
    'Mensagem privada',
    'Silenciar',
    'Tornar coanfitrião',
    'Remover da conversa…',
    'Banir nesta sessão…',
  ]);
  await shot(t, 'roster-07-menu-pt-BR');
  await menu.getByRole('menuitem', { name: 'Banir nesta sessão…' }).click();
  await p.getByRole('dialog', { name: 'Banir Carla Dias nesta sessão? A pessoa não poderá voltar enquanto a sessão durar.' }).waitFor();
  await focusIs(t, 'button', 'Confirmar banimento de Carla Dias nesta sessão');
  await shot(t, 'roster-08-confirm-ban-pt-BR');
  await axe(t, 'the ban confirmation in Portuguese');
  await p.keyboard.press('Escape');
  await focusIs(t, 'button', 'Ações para Carla Dias');
  assert.equal(await member(t, 'Carla Dias').count(), 1, 'Carla is still here');
  await p.getByRole('button', { name: 'Lista da turma' }).click();
  await p.getByLabel('Lista da turma: um nome por linha').waitFor();
  await shot(t, 'roster-09-class-list-edit-pt-BR');
  await p.getByRole('button', { name: 'Cancelar' }).click();

  // a phone: the list is a drawer
  await p.setViewportSize({ width: 390, height: 844 });
  const who = p.getByRole('button', { name: /^Quem está aqui \(\d+\)$/ });
  await who.click();
  const panel = p.locator('#members-panel');
  await panel.getByRole('button', { name: 'Ações para Ana Souza' }).click();
  await panel.getByRole('menu', { name: 'Ações para Ana Souza' }).waitFor();
  await shot(t, 'roster-10-phone-menu-pt-BR');
  await axe(t, 'the member menu on a phone');
  // Escape closes the menu, not the drawer
  await p.keyboard.press('Escape');
  await panel.getByRole('menu').waitFor({ state: 'detached' });
  assert.ok(await panel.locator('[data-testid=members]').isVisible(), 'the drawer stays open');
  await panel.locator('[data-testid=roster-missing]').scrollIntoViewIfNeeded();
  await shot(t, 'roster-11-phone-class-list-pt-BR');

  // on a phone the language switch is in the menu
  await panel.getByRole('button', { name: 'Fechar' }).click();
  const hosts = p.locator('[data-testid=menu-button]');
  await hosts.click();
  await p.locator('#rail').getByLabel('Idioma').selectOption('en');
  await hosts.click();
  await p.getByRole('button', { name: /^Who is here \(\d+\)$/ }).click();
  await panel.getByRole('button', { name: 'Actions for Ana Souza' }).click();
  await panel.getByRole('menu', { name: 'Actions for Ana Souza' }).waitFor();
  await shot(t, 'roster-12-phone-menu-en');
  await p.keyboard.press('Escape');
  await panel.locator('[data-testid=roster-count]', { hasText: /^4 of 5 here$/ }).waitFor();
  await shot(t, 'roster-13-phone-list-en');
  assert.deepEqual(t.pageErrors, []);
  await late.close();
  await raw.close();
});

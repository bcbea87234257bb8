// Browser end-to-end tests of conversations: replies, reactions, edits,
// mentions and polls between a teacher in the desktop app (the Wails
// bindings stood in for, with the real host token), Ana in English and
// Bruno in Portuguese (on a touch screen), through a real `lanchat serve`.
// The host sends 5 messages on joining (--history 5), so a reply's original
// soon lies beyond a fresh page's window and has to be fetched. run.sh starts
// this inside a network namespace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as harness from './harness.mjs';
import { OUT, TMP, axe, killServer, launchBrowser, online, openRoom, send } from './harness.mjs';

const PORT = 47897;
const ADDR = `127.0.0.1:${PORT}`;
const BASE = `http://${ADDR}/`;
const DATA = mkdtempSync(join(TMP, 'conversations-'));
const TOKEN_FILE = join(DATA, 'host-token');

let server;
let browser;
const u = {};

async function person(name, { locale = 'en-US', label = 'Your name', touch = false } = {}) {
  const context = await browser.newContext({ locale, colorScheme: 'light', viewport: { width: 1280, height: 800 }, hasTouch: touch });
  const page = await context.newPage();
  const x = harness.track(name, context, page);
  await page.goto(BASE);
  await page.getByLabel(label).fill(name);
  await page.getByLabel(label).press('Enter');
  await online(x);
  return x;
}

/** message is the entry whose own text (not a quote of it) has text. */
function message(x, text) {
  return x.page.locator('[data-testid=message]', { has: x.page.locator('.body', { hasText: text }) });
}

async function shot(x, name) {
  await x.page.screenshot({ path: join(OUT, name + '.png') });
}

/** count waits until the locator's data-count (or text) says want. */
async function waitAttr(loc, attr, want) {
  await loc.and(loc.page().locator(`[${attr}="${want}"]`)).waitFor();
}

before(async () => {
  server = await harness.startServer({
    addr: ADDR,
    name: 'Sala 21',
    data: DATA,
    rooms: 'general',
    extra: ['--host-token-file', TOKEN_FILE, '--history', '5'],
    log: 'server-conversations.log',
  });
  browser = await launchBrowser();
  const token = readFileSync(TOKEN_FILE, 'utf8').trim();
  u.teacher = await harness.teacher(browser, ADDR, token);
  u.ana = await person('Ana');
  u.bruno = await person('Bruno', { locale: 'pt-BR', label: 'Seu nome', touch: true });
  for (const x of [u.teacher, u.ana, u.bruno]) await openRoom(x, 'general');
});

after(async () => {
  for (const x of Object.values(u)) assert.deepEqual(x.pageErrors, [], `${x.name}: no script errors`);
  await browser?.close().catch(() => {});
  await killServer(server);
});

test('a reply quotes its original, jumps to it, and shows the tombstone once it is deleted', async () => {
  await send(u.ana, 'who has the slides?\nI lost mine');
  const orig = message(u.bruno, 'who has the slides?');
  await orig.locator('xpath=self::*[@data-state="sent"]').waitFor();
  await orig.getByRole('button', { name: 'Responder a Ana' }).click();
  await u.bruno.page.locator('[data-testid=reply-banner]', { hasText: 'Respondendo a Ana: who has the slides?' }).waitFor();
  await send(u.bruno, 'eu tenho');
  await u.bruno.page.locator('[data-testid=reply-banner]').waitFor({ state: 'detached' });
  const reply = message(u.ana, 'eu tenho');
  const quote = reply.locator('[data-testid=quote]');
  await quote.filter({ hasText: 'Ana' }).filter({ hasText: 'who has the slides?' }).waitFor();
  assert.equal(await quote.textContent().then((t) => t.includes('I lost mine')), false, 'only the first line is quoted');
  await quote.click();
  const original = message(u.ana, 'who has the slides?');
  await original.and(u.ana.page.locator('.flash')).waitFor();
  assert.equal(await original.evaluate((el) => el === document.activeElement), true, 'the original has the focus');
  await shot(u.ana, '40-reply');
  await axe(u.ana, 'a reply and its original');

  // Ana deletes her question: the reply stays, its quote becomes the tombstone
  await original.hover();
  await original.getByRole('button', { name: 'Delete your message' }).click();
  await original.getByRole('button', { name: 'Delete for everyone' }).click();
  await message(u.bruno, 'eu tenho').locator('[data-testid=quote] .tombstone', { hasText: 'Esta mensagem foi apagada.' }).waitFor();
  await reply.locator('[data-testid=quote] .tombstone', { hasText: 'This message was deleted.' }).waitFor();
});

test('a reply to a message beyond the window fetches it from the host', async () => {
  await send(u.teacher, 'Exam on Friday, chapter 4.');
  const first = message(u.ana, 'Exam on Friday, chapter 4.');
  await first.locator('xpath=self::*[@data-state="sent"]').waitFor();
  await first.getByRole('button', { name: 'Reply to Teacher' }).click();
  await send(u.ana, 'which pages?');
  for (let i = 1; i <= 6; i++) await send(u.teacher, `filler ${i}`);
  await message(u.ana, 'filler 6').waitFor();
  // a fresh page gets the last 5: the reply, not its original
  await u.ana.page.reload();
  await online(u.ana);
  await openRoom(u.ana, 'general');
  await message(u.ana, 'filler 6').waitFor();
  assert.equal(await message(u.ana, 'which pages?').count(), 0, 'the reply is older than the window too');
  await send(u.teacher, 'pages 40 to 52');
  const r2 = message(u.ana, 'pages 40 to 52');
  await r2.waitFor();
  // the teacher replies to Ana's old question, which Ana's page does not have
  const old = message(u.teacher, 'which pages?');
  await old.getByRole('button', { name: 'Reply to Ana' }).click();
  await send(u.teacher, 'see above');
  const q = message(u.ana, 'see above').locator('[data-testid=quote]');
  await q.filter({ hasText: 'an earlier message' }).waitFor();
  await q.click();
  await message(u.ana, 'which pages?').and(u.ana.page.locator('.flash')).waitFor();
  await q.filter({ hasText: 'which pages?' }).waitFor();
  // what came between is there once, in order
  const seqs = await u.ana.page.locator('[data-testid=message][data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
  assert.equal(new Set(seqs).size, seqs.length, 'no message twice');
});

test('reactions: quick-pick, any emoji, one per person, counts and who', async () => {
  await send(u.teacher, 'Who has finished?');
  const onBruno = message(u.bruno, 'Who has finished?');
  await onBruno.locator('xpath=self::*[@data-state="sent"]').waitFor();
  await onBruno.getByRole('button', { name: 'Reagir', exact: true }).tap();
  await onBruno.getByRole('button', { name: 'Reagir com 👍' }).tap();
  const onAna = message(u.ana, 'Who has finished?');
  const thumbs = onAna.locator('[data-testid=reaction][data-emoji="👍"]');
  await waitAttr(thumbs, 'data-count', '1');
  assert.equal(await thumbs.getAttribute('aria-label'), '👍 1 · from Bruno');
  assert.equal(await thumbs.getAttribute('aria-pressed'), 'false');
  await thumbs.click(); // Ana adds hers
  await waitAttr(thumbs, 'data-count', '2');
  await waitAttr(thumbs, 'aria-pressed', 'true');
  await waitAttr(onBruno.locator('[data-testid=reaction][data-emoji="👍"]'), 'aria-label', '👍 2 · de Bruno, Ana');
  await thumbs.click(); // and takes it back
  await waitAttr(thumbs, 'data-count', '1');
  // any emoji, typed (or from the system's emoji picker)
  await onAna.hover();
  await onAna.getByRole('button', { name: 'React', exact: true }).click();
  await onAna.getByLabel('Other emoji').fill('ok');
  await onAna.getByRole('button', { name: 'Add' }).click();
  await onAna.getByRole('alert').filter({ hasText: 'Type one emoji.' }).waitFor();
  await onAna.getByLabel('Other emoji').fill('🎉');
  await onAna.getByRole('button', { name: 'Add' }).click();
  await waitAttr(onBruno.locator('[data-testid=reaction][data-emoji="🎉"]'), 'data-count', '1');
  await shot(u.bruno, '41-reactions-pt-BR');
  await axe(u.bruno, 'reactions in Portuguese');
});

test('the author edits within the time; others see (edited); the host cannot edit their words', async () => {
  await send(u.ana, 'the tset is on friday');
  const mine = message(u.ana, 'the tset is on friday');
  await mine.locator('xpath=self::*[@data-state="sent"]').waitFor();
  const row = u.ana.page.locator(`[data-key="${await mine.getAttribute('data-key')}"]`);
  await row.hover();
  await row.getByRole('button', { name: 'Edit your message' }).click();
  await row.getByTestId('edit-text').fill('the test is on Friday');
  await row.getByTestId('edit-text').press('Enter');
  const onBruno = message(u.bruno, 'the test is on Friday');
  await onBruno.locator('[data-testid=edited]', { hasText: '(editada)' }).waitFor();
  await message(u.ana, 'the test is on Friday').locator('[data-testid=edited]', { hasText: '(edited)' }).waitFor();
  assert.equal(await message(u.bruno, 'tset').count(), 0, 'the old words are gone');
  const onTeacher = message(u.teacher, 'the test is on Friday');
  await onTeacher.hover();
  await onTeacher.getByRole('button', { name: 'Delete the message from Ana' }).waitFor();
  assert.equal(await onTeacher.getByRole('button', { name: 'Edit your message' }).count(), 0, 'no edit on others’ messages');
});

test('ArrowUp in the empty composer edits one’s last message: Enter saves it, Escape gives the composer back', async () => {
  const page = u.ana.page;
  const area = page.locator('#composer');
  assert.match(await page.locator('#composer-hint').textContent(), /↑\sedits your last message/);
  await send(u.ana, 'see you at 9');
  const mine = message(u.ana, 'see you at 9');
  await mine.locator('xpath=self::*[@data-state="sent"]').waitFor();
  const row = page.locator(`[data-key="${await mine.getAttribute('data-key')}"]`);
  await send(u.bruno, 'combinado, às nove'); // someone else's message after it changes nothing
  await message(u.ana, 'combinado, às nove').waitFor();
  const editor = row.getByTestId('edit-text');
  const focusedAtEnd = () => editor.evaluate((el) => el === document.activeElement && el.selectionStart === el.value.length && el.selectionEnd === el.value.length);

  // with something typed, ArrowUp stays in the box
  await area.fill('draft');
  await area.press('ArrowUp');
  assert.equal(await page.getByTestId('edit-text').count(), 0, 'no editor while the composer has text');
  await area.fill('');

  await area.press('ArrowUp');
  await editor.waitFor();
  assert.equal(await editor.inputValue(), 'see you at 9');
  assert.equal(await focusedAtEnd(), true, 'the editor has the focus, the caret at the end');
  await page.keyboard.type('.30');
  await page.keyboard.press('Enter');
  await editor.waitFor({ state: 'detached' });
  await message(u.teacher, 'see you at 9.30').locator('[data-testid=edited]', { hasText: '(edited)' }).waitFor();
  await message(u.bruno, 'see you at 9.30').locator('[data-testid=edited]', { hasText: '(editada)' }).waitFor();
  assert.equal(await area.evaluate((el) => el === document.activeElement), true, 'saved: the composer has the focus again');

  // Escape leaves the message as it was and gives the focus back to the composer
  await area.press('ArrowUp');
  await editor.waitFor();
  assert.equal(await focusedAtEnd(), true);
  await page.keyboard.type(' or 10');
  await page.keyboard.press('Escape');
  await editor.waitFor({ state: 'detached' });
  assert.equal(await area.evaluate((el) => el === document.activeElement), true, 'cancelled: the composer has the focus again');
  assert.equal(await area.inputValue(), '');
  assert.equal(await row.locator('.body').textContent().then((t) => t.includes('see you at 9.30')), true, 'the text as it was');

  // another message's editor opened meanwhile keeps the focus, and gives it to the composer when it closes
  await area.press('ArrowUp');
  await editor.waitFor();
  // by its key: while it is edited its row shows the editor, not the text
  const other = page.locator(`[data-key="${await message(u.ana, 'the test is on Friday').getAttribute('data-key')}"]`);
  await other.hover();
  await other.getByRole('button', { name: 'Edit your message' }).click();
  await editor.waitFor({ state: 'detached' });
  const otherEditor = other.getByTestId('edit-text');
  await otherEditor.waitFor();
  assert.equal(await otherEditor.evaluate((el) => el === document.activeElement), true, 'the other editor has the focus');
  await otherEditor.press('Escape');
  await otherEditor.waitFor({ state: 'detached' });
  assert.equal(await area.evaluate((el) => el === document.activeElement), true, 'the composer has the focus again');
});

test('typing @ offers the room’s members, by keyboard and by touch; @todos from the host reaches everyone', async () => {
  const area = u.ana.page.locator('#composer');
  await area.fill('');
  await area.pressSequentially('hey @br');
  const list = u.ana.page.getByRole('listbox', { name: 'People to mention' });
  await list.getByRole('option', { name: '@Bruno' }).waitFor();
  await area.press('Enter'); // takes the choice, does not send
  assert.equal(await area.inputValue(), 'hey @Bruno ');
  await list.waitFor({ state: 'detached' });
  await area.pressSequentially('look');
  await area.press('Enter');
  await message(u.bruno, 'hey @Bruno look').and(u.bruno.page.locator('.mention')).waitFor();

  // Bruno on his touch screen
  const barea = u.bruno.page.locator('#composer');
  await barea.tap();
  await barea.pressSequentially('@an');
  await u.bruno.page.getByRole('listbox', { name: 'Pessoas para mencionar' }).getByRole('option', { name: '@Ana' }).tap();
  assert.equal(await barea.inputValue(), '@Ana ');
  await barea.fill('');

  // a guest's @todos mentions nobody; the host's mentions everyone
  await send(u.bruno, '@todos festa!');
  await message(u.ana, '@todos festa!').waitFor();
  assert.equal(await message(u.ana, '@todos festa!').evaluate((el) => el.classList.contains('mention')), false);
  const tarea = u.teacher.page.locator('#composer');
  await tarea.pressSequentially('@to');
  await u.teacher.page.getByRole('option', { name: /@todos/ }).waitFor();
  await tarea.press('Tab');
  await tarea.pressSequentially('prova amanhã');
  await tarea.press('Enter');
  for (const x of [u.ana, u.bruno]) await message(x, '@todos prova amanhã').and(x.page.locator('.mention')).waitFor();
  await shot(u.ana, '42-mentions');
});

test('a poll between two people: live results, one vote each, closed by the host, kept after a reload', async () => {
  const tp = u.teacher.page;
  assert.equal(await u.ana.page.getByTestId('new-poll').count(), 0, 'guests post no polls unless the host allows it');
  await tp.getByRole('button', { name: 'New poll' }).click();
  await tp.getByLabel('Question').fill('Exam on Friday or Monday?');
  await tp.getByLabel('Option 1').fill('Friday');
  await tp.getByLabel('Option 2').fill('Monday');
  await tp.getByRole('button', { name: 'Post the poll' }).click();
  const pollOf = (x) => x.page.locator('[data-testid=poll]').last();
  const counts = async (x) => pollOf(x).locator('[data-testid=poll-count]').allTextContents();
  const optionOf = (x, i) => pollOf(x).locator(`[data-testid=poll-option][data-option="${i}"]`);
  await optionOf(u.ana, 1).click();
  await waitAttr(optionOf(u.bruno, 1).locator('[data-testid=poll-count]'), 'aria-label', '1 voto');
  await optionOf(u.bruno, 0).tap();
  await optionOf(u.bruno, 1).tap(); // changed his mind: still one vote
  await waitAttr(optionOf(u.teacher, 1).locator('[data-testid=poll-count]'), 'aria-label', '2 votes');
  assert.deepEqual(await counts(u.teacher), ['0', '2']);
  await waitAttr(optionOf(u.bruno, 1), 'aria-pressed', 'true');
  assert.equal(await optionOf(u.bruno, 0).getAttribute('aria-pressed'), 'false');
  assert.equal(await pollOf(u.ana).getByTestId('poll-close').count(), 0, 'only its author and hosts close it');
  await pollOf(u.teacher).getByRole('button', { name: 'Close the poll' }).click();
  await pollOf(u.bruno).getByText('Enquete (encerrada)').waitFor();
  assert.equal(await optionOf(u.ana, 0).isDisabled(), true, 'a closed poll takes no votes');
  await shot(u.bruno, '43-poll-pt-BR');
  await axe(u.bruno, 'a closed poll in Portuguese');

  await u.bruno.page.reload();
  await online(u.bruno);
  await openRoom(u.bruno, 'general');
  await pollOf(u.bruno).getByText('Enquete (encerrada)').waitFor();
  assert.deepEqual(await counts(u.bruno), ['0', '2']);
  await waitAttr(optionOf(u.bruno, 1), 'aria-pressed', 'true');
});

test('the host lets everyone post polls and turns edits off, from the session card', async () => {
  await send(u.ana, 'no edits soon');
  const mine = message(u.ana, 'no edits soon');
  await mine.locator('xpath=self::*[@data-state="sent"]').waitFor();
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit your message' }).waitFor();
  const tp = u.teacher.page;
  await tp.getByRole('button', { name: 'Session card' }).click();
  const card = tp.locator('[data-testid=session-card]');
  const polls = card.getByLabel('Who may post polls');
  assert.equal(await polls.inputValue(), 'hosts');
  const edits = card.getByLabel('Members may edit their messages');
  assert.equal(await edits.inputValue(), '900', 'the default: 15 minutes');
  await polls.selectOption('everyone');
  await edits.selectOption('0');
  await tp.keyboard.press('Escape');
  await card.waitFor({ state: 'detached' });
  // Ana may post a poll now, and edit nothing: the button goes from the message she could edit
  await u.ana.page.getByRole('button', { name: 'New poll' }).waitFor();
  await u.bruno.page.getByRole('button', { name: 'Nova enquete' }).waitFor();
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit your message' }).waitFor({ state: 'detached' });
  await mine.getByRole('button', { name: 'React', exact: true }).waitFor();
  // nor from the composer, whose hint no longer offers it
  const area = u.ana.page.locator('#composer');
  await area.fill('');
  await area.press('ArrowUp');
  assert.equal(await u.ana.page.getByTestId('edit-text').count(), 0, 'ArrowUp opens no editor');
  assert.doesNotMatch(await u.ana.page.locator('#composer-hint').textContent(), /↑/);
});

test('a host kill -9 and the reconnect keep replies, reactions, edits and votes, none doubled; a reaction made while it was down goes out once', async () => {
  // The teacher's page has had everything since the start; Ana's since her reload (the host sends 5 on joining).
  const finished = (x) => message(x, 'Who has finished?');
  const chips = (x) => finished(x).locator('[data-testid=reaction]').evaluateAll((els) => els.map((e) => `${e.dataset.emoji}${e.dataset.count}`));
  assert.deepEqual(await chips(u.teacher), ['👍1', '🎉1']);
  await killServer(server);
  for (const x of [u.teacher, u.ana]) await x.page.locator('[data-testid=conn-status][data-status=waiting]').waitFor();
  // Ana reacts while the host is down: it waits, and goes out after the reconnect
  await finished(u.ana).hover();
  await finished(u.ana).getByRole('button', { name: 'React', exact: true }).click();
  await finished(u.ana).getByRole('button', { name: 'React with ❤️' }).click();

  server = await harness.startServer({
    addr: ADDR,
    name: 'Sala 21',
    data: DATA,
    rooms: 'general',
    extra: ['--host-token-file', TOKEN_FILE, '--history', '5'],
    log: 'server-conversations.log',
  });
  for (const x of [u.teacher, u.ana, u.bruno]) await online(x);
  await waitAttr(finished(u.teacher).locator('[data-testid=reaction][data-emoji="❤️"]'), 'data-count', '1');
  for (const x of [u.teacher, u.ana]) {
    await waitAttr(finished(x).locator('[data-testid=reaction][data-emoji="❤️"]'), 'data-count', '1');
    assert.deepEqual(await chips(x), ['👍1', '🎉1', '❤️1'], `${x.name}: every reaction once`);
    await message(x, 'the test is on Friday').locator('[data-testid=edited]').waitFor();
    const poll = x.page.locator('[data-testid=poll]').first();
    assert.deepEqual(await poll.locator('[data-testid=poll-count]').allTextContents(), ['0', '2'], `${x.name}: the votes`);
    assert.equal(await poll.getAttribute('data-closed'), 'true');
    const seqs = await x.page.locator('[data-testid=message][data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.equal(new Set(seqs).size, seqs.length, `${x.name}: no message twice`);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${x.name}: in seq order`);
  }
  await message(u.teacher, 'eu tenho').locator('[data-testid=quote] .tombstone').waitFor();
  // Bruno's page resumed too: what it had is there once
  assert.equal(await message(u.bruno, 'no edits soon').count(), 1);
});

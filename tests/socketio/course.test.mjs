// The course's own page, served by lanchat at /course/, in headless
// Chromium: it chats both ways with a native lanchat client in one room.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { startHost, freePort, tempDir, native } from "./lib.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
let host, dir, browser;

before(async () => {
  dir = tempDir();
  host = await startHost(await freePort(), dir.path);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
  await host?.stop();
  dir?.remove();
});

// "websocket": the page as it is (io() starts polling and upgrades to a
// WebSocket); "polling": the same page kept on long-polling.
for (const transport of ["websocket", "polling"]) {
  test(`course page (${transport}) and a native client in one room`, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    const sockets = []; // WebSocket frames the page sent, per socket
    page.on("websocket", (ws) => {
      const sent = [];
      sockets.push({ url: ws.url(), sent });
      ws.on("framesent", (f) => sent.push(String(f.payload)));
    });
    const dialogs = [];
    page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    if (transport === "polling") {
      // The page calls io() with no options; keep this run on long-polling.
      await page.addInitScript(() => {
        Object.defineProperty(window, "io", {
          configurable: true,
          set(orig) {
            const io = (url, opts) => orig(url, { ...opts, transports: ["polling"] });
            Object.defineProperty(window, "io", { value: io, writable: true, configurable: true });
          },
        });
      });
    }
    const bobName = `Bob-${transport}`, paula = `Paula-${transport}`;
    const bob = await native(host.url, bobName);
    try {
      bob.send({ type: "join", room: "general" });
      await bob.wait("joined", (f) => f.type === "joined" && f.room === "general");

      await page.goto(`${host.url}/course/`);
      await page.fill("#username", paula);
      await page.click("#btn-login");
      await page.locator("#messages li", { hasText: `${paula} entrou no Lobby.` }).waitFor();
      await page.click('#rooms button[data-room="general"]');
      await page.locator("#messages li", { hasText: `${paula} entrou na sala general.` }).waitFor();
      assert.equal(await page.textContent("#current-room"), "general");
      await bob.wait("Paula joined", (f) => f.type === "presence" && f.changes.some((ch) => ch.event === "joined" && ch.member.name === paula));

      // Page -> native.
      await page.fill("#input", "olá do navegador");
      await page.press("#input", "Enter");
      const m = await bob.wait("the page's message", (f) => f.type === "message" && f.text === "olá do navegador");
      assert.equal(m.from.name, paula);
      assert.equal(m.room, "general");

      // Native -> page.
      bob.send({ type: "send", room: "general", client_id: `bob-${transport}-1`, text: "olá do app" });
      await page.locator("#messages li", { hasText: `${bobName}: olá do app` }).waitFor();

      // An unknown room: the page shows the server's error_message as an alert.
      await page.evaluate(() => {
        const b = document.createElement("button");
        b.dataset.room = "sala-fantasma";
        b.id = "ghost";
        document.getElementById("rooms").appendChild(b);
      });
      await page.click("#ghost");
      const deadline = Date.now() + 10_000;
      while (!dialogs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(dialogs, ["A sala 'sala-fantasma' não existe."]);

      // The transport really was the one under test, and nothing came from off the host.
      if (transport === "websocket") {
        // Probe and upgrade happened, and the chat then went over the WebSocket.
        const ws = sockets.find((w) => w.url.includes("/socket.io/?EIO=4&transport=websocket"));
        assert.ok(ws, "no Engine.IO WebSocket");
        assert.deepEqual(ws.sent.slice(0, 2), ["2probe", "5"]);
        assert.ok(ws.sent.some((f) => f.startsWith('42["send_message"')), `sent: ${ws.sent}`);
      } else {
        assert.equal(sockets.length, 0, "the polling run opened a WebSocket");
      }
      for (const u of requests) assert.ok(u.startsWith(host.url), `request off the host: ${u}`);
      assert.ok(requests.includes(`${host.url}/course/socket.io.min.js`));
    } finally {
      await bob.close();
      await context.close();
    }
  });
}

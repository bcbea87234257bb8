// Helpers for the Socket.IO tests: a real `lanchat serve` on 127.0.0.1 and
// a native protocol v1 client.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WAIT = 10_000; // generous deadline for conditions

let built;
// lanchatBinary is $LANCHAT_BIN, or a binary built once with go build.
export function lanchatBinary() {
  if (process.env.LANCHAT_BIN) return process.env.LANCHAT_BIN;
  if (!built) {
    const dir = mkdtempSync(path.join(tmpdir(), "lanchat-sio-bin-"));
    built = path.join(dir, "lanchat");
    execFileSync("go", ["build", "-o", built, "."], { cwd: repo, stdio: "inherit" });
  }
  return built;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

// startHost runs `lanchat serve` on 127.0.0.1:port and waits for /api/info.
export async function startHost(port, dataDir, extra = []) {
  const proc = spawn(lanchatBinary(), ["serve", "--addr", `127.0.0.1:${port}`, "--data-dir", dataDir, "--name", "test-host", "--no-discovery", ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (d) => { log += d; });
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  const deadline = Date.now() + WAIT;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/api/info`);
      if (r.ok) {
        const info = await r.json();
        if (info.port === port) break;
      }
    } catch { /* not yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`lanchat serve did not start on ${port}: ${log}`);
    }
    await sleep(50);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), WAIT);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export function tempDir() {
  const d = mkdtempSync(path.join(tmpdir(), "lanchat-sio-"));
  return { path: d, remove: () => existsSync(d) && rmSync(d, { recursive: true, force: true }) };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor polls cond until it returns a truthy value.
export async function waitFor(what, cond, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// Events records a Socket.IO client's events.
export function record(socket, names = ["message", "rooms_list", "error_message"]) {
  const events = [];
  for (const n of names) socket.on(n, (...args) => events.push({ name: n, args }));
  return {
    events,
    has: (name, pred) => events.some((e) => e.name === name && pred(e.args[0])),
    wait: (name, pred = () => true) =>
      waitFor(`${name} event`, () => events.find((e) => e.name === name && pred(e.args[0]))),
    waitText: (text) => waitFor(`message "${text}" (got ${JSON.stringify(events.map((e) => e.args[0]))})`,
      () => events.find((e) => e.name === "message" && e.args[0] === text)),
  };
}

// Native is a protocol v1 client on /ws.
export async function native(url, name) {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/ws");
  const frames = [];
  ws.on("message", (data) => {
    for (const line of data.toString().split("\n")) if (line) frames.push(JSON.parse(line));
  });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  const send = (f) => ws.send(JSON.stringify(f));
  send({ type: "hello", version: 1, name });
  const c = {
    frames,
    send,
    wait: (what, pred) => waitFor(`native ${name}: ${what}`, () => frames.find(pred)),
    close: () => new Promise((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.once("close", resolve);
      ws.close();
    }),
  };
  await c.wait("welcome", (f) => f.type === "welcome");
  return c;
}

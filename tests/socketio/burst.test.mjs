// A lecture hall on the Socket.IO endpoint: 500 official socket.io-client
// clients connect and join one room at the same moment. Nobody is
// disconnected, each sees its own arrival, and the room's member list (as a
// native observer and /api/info see it) holds all 500, once each.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startHost, freePort, tempDir, native, waitFor } from "./lib.mjs";

const N = 500;
let host, dir;
const open = [];
before(async () => {
  dir = tempDir();
  host = await startHost(await freePort(), dir.path);
});
after(async () => {
  for (const c of open) c.close();
  await host?.stop();
  dir?.remove();
});

test(`${N} Socket.IO clients join one room at once: nobody is disconnected`, async () => {
  const observer = await native(host.url, "Observador");
  open.push(observer);
  observer.send({ type: "join", room: "general" });
  await observer.wait("joined general", (f) => f.type === "joined" && f.room === "general");

  let disconnects = 0;
  let connectErrors = 0;
  const arrived = new Set();
  const clients = [];
  for (let i = 0; i < N; i++) {
    const name = `Aluno ${String(i).padStart(3, "0")}`;
    const s = io(host.url, { transports: ["websocket"], forceNew: true, reconnection: false });
    open.push(s);
    s.on("disconnect", () => disconnects++);
    s.on("connect_error", () => connectErrors++);
    s.on("message", (line) => {
      if (line === `${name} entrou na sala general.`) arrived.add(name);
    });
    // Every client asks to join as soon as it is connected: all at once.
    s.on("connect", () => s.emit("join_room", { username: name, room: "general" }));
    clients.push(s);
  }
  await waitFor(`${N} arrivals (have ${arrived.size}, ${disconnects} disconnects)`, () => arrived.size === N || disconnects > 0 || connectErrors > 0, 90_000);
  assert.equal(connectErrors, 0, "connect errors");
  assert.equal(disconnects, 0, "clients the host disconnected");
  assert.equal(arrived.size, N);

  // The observer's list: joined, then the presence changes applied in order.
  const listOf = () => {
    const list = new Map();
    for (const f of observer.frames) {
      if (f.room !== "general") continue;
      if (f.type === "joined") {
        list.clear();
        for (const m of f.members) list.set(m.id, m.name);
      } else if (f.type === "presence") {
        for (const c of f.changes) {
          if (c.event === "joined") list.set(c.member.id, c.member.name);
          else list.delete(c.member.id);
        }
      }
    }
    return [...list.values()].sort();
  };
  const want = ["Observador", ...Array.from({ length: N }, (_, i) => `Aluno ${String(i).padStart(3, "0")}`)].sort();
  await waitFor("the observer's complete list", () => listOf().length === want.length, 30_000);
  assert.deepEqual(listOf(), want);
  const info = await (await fetch(`${host.url}/api/info`)).json();
  const general = info.rooms.find((r) => r.name === "general");
  assert.equal(general.members, N + 1);
  const presenceFrames = observer.frames.filter((f) => f.type === "presence" && f.room === "general").length;
  console.log(`# ${N} joins reached the observer in ${presenceFrames} presence frames`);
  assert.equal(disconnects, 0, "clients the host disconnected");
});

// The official npm socket.io-client against a real `lanchat serve`, on each
// transport: connect, join, room broadcast, error_message for an unknown
// room, an acknowledgement, and reconnection after a server restart.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startHost, freePort, tempDir, record, native, waitFor } from "./lib.mjs";

let host, dir, port;
before(async () => {
  dir = tempDir();
  port = await freePort();
  host = await startHost(port, dir.path);
});
const open = []; // every client, closed at the end even when a test fails
after(async () => {
  for (const c of open) c.close();
  await host?.stop();
  dir?.remove();
});

const transportsList = [["websocket"], ["polling"]];

function client(transports, opts = {}) {
  const s = io(host.url, { transports, upgrade: false, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 500, ...opts });
  open.push(s);
  return s;
}

// notice matches a presence line about name: alone ("Carla entrou na sala general.") or
// collapsed with others who moved in the same moment ("Bob e Carla entraram na sala general.").
const notice = (name, one, many, where) => (line) =>
  typeof line === "string" && line.includes(name) && (line.endsWith(`${one} ${where}`) || line.endsWith(`${many} ${where}`));

const connected = (s) => new Promise((resolve, reject) => {
  if (s.connected) return resolve();
  s.once("connect", resolve);
  s.once("connect_error", reject);
});

for (const transports of transportsList) {
  const tr = transports[0];

  test(`${tr}: connect, join, room broadcast, unknown room, acknowledgement`, async () => {
    const alice = client(transports);
    const ra = record(alice);
    const carla = client(transports);
    const rc = record(carla);
    await Promise.all([connected(alice), connected(carla)]);
    assert.equal(alice.io.engine.transport.name, tr);
    // On connect: in the lobby, with the rooms list.
    const rooms = await ra.wait("rooms_list");
    assert.deepEqual(rooms.args[0], { rooms: ["general", "projects", "random"] });

    const bob = await native(host.url, `Bob-${tr}`);
    open.push(bob);
    bob.send({ type: "join", room: "general" });
    await bob.wait("joined general", (f) => f.type === "joined" && f.room === "general");

    const a = `Alice-${tr}`, c = `Carla-${tr}`;
    alice.emit("join_lobby", { username: a });
    await ra.waitText(`${a} entrou no Lobby.`);
    // The course page: leave the lobby, then join the room.
    alice.emit("leave_room", { username: a, room: "lobby" });
    alice.emit("join_room", { username: a, room: "general" });
    await ra.waitText(`${a} entrou na sala general.`);
    carla.emit("join_room", { username: c, room: "general" });
    await rc.waitText(`${c} entrou na sala general.`);
    await ra.wait("message", notice(c, "entrou", "entraram", "na sala general."));

    // Room broadcast, with an acknowledgement.
    const ack = await alice.timeout(10_000).emitWithAck("send_message", { username: a, room: "general", message: "olá sala" });
    assert.equal(ack.ok, true);
    assert.equal(ack.room, "general");
    assert.ok(ack.seq >= 1);
    await ra.waitText(`${a}: olá sala`);
    await rc.waitText(`${a}: olá sala`);
    const m = await bob.wait("message from Alice", (f) => f.type === "message" && f.text === "olá sala");
    assert.equal(m.from.name, a);
    assert.equal(m.seq, ack.seq);

    // Native -> Socket.IO, in the same room.
    bob.send({ type: "send", room: "general", client_id: `b1-${tr}`, text: "oi do app" });
    await ra.waitText(`Bob-${tr}: oi do app`);
    await rc.waitText(`Bob-${tr}: oi do app`);

    // Unknown room: error_message (and a failed ack), the client stays in its room.
    carla.emit("join_room", { username: c, room: "sala-que-nao-existe" });
    const err = await rc.wait("error_message");
    assert.deepEqual(err.args[0], { msg: "A sala 'sala-que-nao-existe' não existe." });
    const bad = await carla.timeout(10_000).emitWithAck("join_room", { username: c, room: "nope" });
    assert.equal(bad.ok, false);
    assert.equal(bad.code, "no_such_room");
    alice.emit("send_message", { username: a, room: "general", message: "ainda aí?" });
    await rc.waitText(`${a}: ainda aí?`);

    // leave_room returns to the lobby: no more room traffic for Carla.
    carla.emit("leave_room", { username: c, room: "general" });
    await rc.waitText(`${c} voltou ao Lobby.`);
    await ra.wait("message", notice(c, "saiu", "saíram", "da sala general."));
    await bob.wait("Carla left", (f) => f.type === "presence" && f.changes.some((ch) => ch.event === "left" && ch.member.name === c));

    alice.close();
    carla.close();
    await bob.wait("Alice disconnected", (f) => f.type === "presence" && f.changes.some((ch) => ch.event === "disconnected" && ch.member.name === a));
    await bob.close();
  });

  test(`${tr}: another namespace gets CONNECT_ERROR`, async () => {
    const s = io(host.url + "/admin", { transports, forceNew: true, reconnection: false });
    open.push(s);
    const err = await new Promise((resolve) => s.once("connect_error", resolve));
    assert.equal(err.message, "Invalid namespace");
    s.close();
  });
}

// Runs last: restarts the host on the same port while clients are connected.
test("reconnection after a server restart, on each transport", async () => {
  const clients = transportsList.map((transports) => {
    const s = client(transports);
    return { s, r: record(s), name: `Re-${transports[0]}`, transports };
  });
  await Promise.all(clients.map(({ s }) => connected(s)));
  for (const { s, r, name } of clients) {
    s.emit("join_room", { username: name, room: "random" });
    await r.waitText(`${name} entrou na sala random.`);
  }
  const reconnects = clients.map(({ s }) => new Promise((resolve) => s.io.once("reconnect", resolve)));
  const code = await host.stop();
  assert.equal(code, 0, "the host exits cleanly");
  host = await startHost(port, dir.path);
  await Promise.all(reconnects);
  for (const { s, r, name, transports } of clients) {
    await connected(s);
    assert.equal(s.io.engine.transport.name, transports[0]);
    // A fresh rooms_list arrives with the new connection.
    await waitFor("a second rooms_list", () => r.events.filter((e) => e.name === "rooms_list").length >= 2);
    // The page still believes it is in "random" and sends there: it is moved back in.
    const ack = await s.timeout(10_000).emitWithAck("send_message", { username: name, room: "random", message: "voltei" });
    assert.equal(ack.ok, true);
  }
  // Each sees its own message and those of the clients that came back after it.
  for (let i = 0; i < clients.length; i++) {
    for (let j = i; j < clients.length; j++) await clients[i].r.waitText(`${clients[j].name}: voltei`);
  }
  for (const { s } of clients) s.close();
});

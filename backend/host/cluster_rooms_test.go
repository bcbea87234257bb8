package host

import (
	"context"
	"slices"
	"testing"
	"time"
)

// listsRoom reports whether a rooms frame lists name (locked as asked).
func listsRoom(f frame, name string, locked bool) bool {
	return f.Type == "rooms" && slices.ContainsFunc(f.Rooms, func(r struct {
		Name   string `json:"name"`
		Locked bool   `json:"locked"`
	}) bool {
		return r.Name == name && r.Locked == locked
	})
}

// The host on box 1 creates, locks, renames and closes a room; members on
// boxes 2 and 3 see each change as it happens, and talk in the new room.
func TestClusterRoomsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes, host, bia, caio := threeBoxClass(t)
	const wait = 20 * time.Second

	// Created on box 1: listed on boxes 2 and 3, and one room everywhere.
	if err := host.send(map[string]any{"type": "control", "action": "create_room", "name": "Projeto"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := host.waitFor(wait, func(f frame) bool { return f.Type == "joined" && f.Room == "Projeto" }); !ok {
		t.Fatalf("the host did not get its new room: %+v", host.frames)
	}
	for _, c := range []*wsClient{bia, caio} {
		if _, ok := c.waitFor(wait, func(f frame) bool { return listsRoom(f, "Projeto", false) }); !ok {
			t.Fatalf("%s's box never listed the new room", c.name)
		}
		joinRoom(t, c, "Projeto")
	}
	if err := bia.send(map[string]any{"type": "send", "room": "Projeto", "client_id": "b1", "text": "first in the new room"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{host, caio} {
		if _, ok := c.waitFor(wait, func(f frame) bool { return f.Type == "message" && f.Text == "first in the new room" }); !ok {
			t.Fatalf("%s did not get Bia's message in the new room", c.name)
		}
	}

	// Locked on box 1: box 3 refuses a student's message.
	if err := host.send(map[string]any{"type": "control", "action": "lock", "room": "Projeto", "flag": true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := caio.waitFor(wait, func(f frame) bool { return listsRoom(f, "Projeto", true) }); !ok {
		t.Fatal("box 3 never listed the room as locked")
	}
	if err := caio.send(map[string]any{"type": "send", "room": "Projeto", "client_id": "c1", "text": "may I?"}); err != nil {
		t.Fatal(err)
	}
	if f, ok := caio.waitFor(wait, func(f frame) bool { return f.Type == "error" && f.Ref == "c1" }); !ok || f.Code != "room_locked" {
		t.Fatalf("a send in the locked room on box 3: %+v", f)
	}

	// Renamed on box 1: members on the other boxes are told.
	if err := host.send(map[string]any{"type": "control", "action": "rename_room", "room": "Projeto", "name": "Projeto Final"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{bia, caio} {
		if f, ok := c.waitFor(wait, func(f frame) bool { return f.Type == "renamed" }); !ok || f.Room != "Projeto" || f.Name != "Projeto Final" {
			t.Fatalf("%s: renamed %+v", c.name, f)
		}
	}

	// Closed on box 1: everyone in it is told, and it is gone everywhere.
	if err := host.send(map[string]any{"type": "control", "action": "close_room", "room": "Projeto Final"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{bia, caio} {
		if f, ok := c.waitFor(wait, func(f frame) bool { return f.Type == "closed" }); !ok || f.Room != "Projeto Final" {
			t.Fatalf("%s: closed %+v", c.name, f)
		}
	}
	late, _, err := dialBox(boxes[2].ws(), "Davi", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.close()
	if err := late.send(map[string]any{"type": "join", "room": "Projeto Final"}); err != nil {
		t.Fatal(err)
	}
	if f, ok := late.waitFor(wait, func(f frame) bool { return f.Type == "error" || f.Type == "joined" && f.Room == "Projeto Final" }); !ok || f.Code != "no_such_room" {
		t.Fatalf("joining the closed room on box 3: %+v", f)
	}
}

// The boxes of a cluster are one host to the LAN: one id and one key on
// every box, so a laptop that meets two of them lists one host, with the
// key it remembered from the first.
func TestClusterIsOneHost(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes := startCluster(t, 3)
	var id, fp string
	for _, b := range boxes {
		var info struct {
			ID          string `json:"id"`
			Fingerprint string `json:"fingerprint"`
		}
		getJSON(t, b.url()+"/api/info", &info)
		if id == "" {
			id, fp = info.ID, info.Fingerprint
		}
		if info.ID != id || info.Fingerprint != fp || fp == "" {
			t.Errorf("%s answers as %+v, box1 as %s %s", b.spec.Name, info, id, fp)
		}
	}
	laptop := runHost(t, Config{Name: "laptop"})
	for _, b := range boxes[:2] {
		p, err := laptop.Discovery.AddManual(context.Background(), b.url()+"/#fp="+fp)
		if err != nil || p.ID != id || p.Trust != "new" {
			t.Fatalf("adding %s: %+v %v", b.spec.Name, p, err)
		}
	}
	n := 0
	for _, p := range laptop.Discovery.Peers() {
		if p.ID == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the laptop lists the cluster %d times: %+v", n, laptop.Discovery.Peers())
	}
}

package server

import (
	"encoding/json"
	"slices"
	"testing"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// A client that knows only v1 messages keeps working next to one that
// replies, reacts and edits: it reads the message frames it knows, skips
// the others (counting their seqs, as docs/protocol.md asks), gets no
// error, and its resume gives the messages it missed among the events.
func TestPlainClientSkipsConversationEvents(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	ana := join(t, h, "Ana")
	old := join(t, h, "Old")
	m1 := sendText(ana, "lobby", "m1", "who has the slides?")
	ana.send(protocol.React{Room: "lobby", ClientID: "r1", Target: m1.Seq, Emoji: "👍"})
	expect[protocol.Ack](ana)
	ana.send(protocol.Send{Room: "lobby", ClientID: "m2", Text: "found them", ReplyTo: m1.Seq})
	expect[protocol.Ack](ana)
	ana.send(protocol.Edit{Room: "lobby", ClientID: "e1", Target: m1.Seq, Text: "who has the slides? (week 3)"})
	last := expect[protocol.Ack](ana).Seq

	// The v1 client: messages by "type":"message"; anything else with a seq is skipped.
	var texts []string
	var seen, skipped []uint64
	for len(seen) == 0 || seen[len(seen)-1] < last {
		typ, raw, err := old.next()
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Seq  uint64 `json:"seq"`
			Text string `json:"text"`
			Room string `json:"room"`
		}
		_ = json.Unmarshal(raw, &f)
		switch {
		case typ == protocol.TypeError:
			t.Fatalf("the plain client got an error: %s", raw)
		case typ == protocol.TypeMessage:
			texts = append(texts, f.Text)
			seen = append(seen, f.Seq)
		case f.Seq > 0 && f.Room == "lobby":
			skipped = append(skipped, f.Seq)
			seen = append(seen, f.Seq)
		}
	}
	if !slices.Equal(texts, []string{"who has the slides?", "found them"}) || !slices.Equal(skipped, []uint64{2, 4}) || !slices.Equal(seen, []uint64{1, 2, 3, 4}) {
		t.Fatalf("the plain client read %q, skipped seqs %v, saw %v", texts, skipped, seen)
	}
	// Its resume from seq 1: the history holds the events too; it keeps the message.
	since := m1.Seq
	old.send(protocol.Join{Room: "lobby", Since: &since})
	j := expect[protocol.Joined](old)
	var kept []string
	for _, m := range j.History {
		if m.Type == protocol.TypeMessage {
			kept = append(kept, m.Text)
		}
	}
	if len(j.History) != 3 || !slices.Equal(kept, []string{"found them"}) || j.LastSeq != last {
		t.Fatalf("resume: %d entries, messages %q, last %d", len(j.History), kept, j.LastSeq)
	}
}

package export

import (
	"encoding/json"
	"io"
	"time"

	"lanchat/backend/chat"
)

// jsonTranscript is the JSON format: messages exactly as the protocol
// carries them, so every field a message has is kept.
type jsonTranscript struct {
	Format   string     `json:"format"`
	Version  int        `json:"version"`
	Title    string     `json:"title"`
	Exported string     `json:"exported"`
	Rooms    []jsonRoom `json:"rooms"`
}

type jsonRoom struct {
	Name      string        `json:"name"`
	Topic     string        `json:"topic,omitempty"`
	Closed    bool          `json:"closed,omitempty"`
	Private   bool          `json:"private,omitempty"`
	People    []string      `json:"people,omitempty"`
	LastSeq   uint64        `json:"last_seq"`
	FirstKept uint64        `json:"first_kept,omitempty"`
	Messages  []chat.Folded `json:"messages"`
}

// JSONFormatName identifies lanchat transcripts in their "format" field.
const JSONFormatName = "lanchat-transcript"

func writeJSON(w io.Writer, t Transcript, loc *time.Location) error {
	out := jsonTranscript{Format: JSONFormatName, Version: 1, Title: t.Title,
		Exported: t.Exported.In(loc).Format(time.RFC3339), Rooms: []jsonRoom{}}
	for _, r := range t.Rooms {
		msgs := chat.Fold(r.Messages)
		if msgs == nil {
			msgs = []chat.Folded{}
		}
		out.Rooms = append(out.Rooms, jsonRoom{Name: r.Name, Topic: r.Topic, Closed: r.Closed, Private: r.Private, People: r.People,
			LastSeq: r.LastSeq, FirstKept: r.FirstKept, Messages: msgs})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

package chat

import (
	"slices"
	"testing"

	"lanchat/backend/protocol"
)

func roomNames(h *Hub) []string {
	var out []string
	for _, r := range h.Stats().Rooms {
		out = append(out, r.Name)
	}
	return out
}

// A new host in Portuguese names its default rooms in Portuguese, under the
// same store keys; started again in English it keeps them (and makes no
// English ones). Rooms given by name are never translated.
func TestDefaultRoomsInTheHostLanguage(t *testing.T) {
	store := NewMemoryStore(100)
	h, _ := newTestHub(t, Config{Store: store, Language: "pt-BR"})
	if got, want := roomNames(h), []string{"lobby", "conversa", "projetos", "bate-papo"}; !slices.Equal(got, want) {
		t.Fatalf("rooms of a new host in Portuguese: %v, want %v", got, want)
	}
	stored, _ := store.Rooms()
	var keys []string
	for _, sr := range stored {
		keys = append(keys, sr.Key)
	}
	if want := []string{"lobby", "general", "projects", "random"}; !slices.Equal(keys, want) {
		t.Fatalf("store keys %v, want %v", keys, want)
	}
	ana, _ := connect(t, h, "Ana")
	if p := ana.Handle(protocol.Join{Room: "Conversa"}); p != nil {
		t.Fatalf("joining conversa: %v", p)
	}
	if p := send(ana, "conversa", "a1"); p != nil {
		t.Fatal(p)
	}
	h.Close()

	h2, _ := newTestHub(t, Config{Store: store, Language: "en"})
	if got, want := roomNames(h2), []string{"lobby", "conversa", "projetos", "bate-papo"}; !slices.Equal(got, want) {
		t.Fatalf("the same host started in English: %v, want %v", got, want)
	}
	h2.Close()

	h3, _ := newTestHub(t, Config{Language: "pt-BR", Rooms: []string{"general", "math"}})
	if got, want := roomNames(h3), []string{"lobby", "general", "math"}; !slices.Equal(got, want) {
		t.Fatalf("rooms given by name: %v, want %v", got, want)
	}
	h4, _ := newTestHub(t, Config{})
	if got, want := roomNames(h4), []string{"lobby", "general", "projects", "random"}; !slices.Equal(got, want) {
		t.Fatalf("a new host in English: %v, want %v", got, want)
	}
}

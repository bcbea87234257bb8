package export

import (
	"fmt"
	"strings"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// The words of the human-readable formats (Markdown, HTML), in the host's
// or the desktop UI's language: English, or Brazilian Portuguese for a
// language tag starting with "pt". Room names stay as the host has them;
// the lobby reads "Geral" in Portuguese, as in the UI.

// words is one language's text.
type words struct {
	Lang          string // the HTML page's lang
	exported      string // "Transcript exported %s."
	topic         string // "Topic: %s"
	Deleted       string
	truncatedNote string // takes the first seq kept
	private       string
	closed        string // appended to a closed room's label
	oneMessage    string
	messages      string // takes the count
	lobby         string // the lobby's label
	Edited        string // after an edited message's seq
	replyingTo    string // takes the original's author and seq
	aMessage      string // the author of a reply's original, when unknown
	pollOpen      string
	pollClosed    string
	oneVote       string
	votesN        string // takes the count
	weekdays      [7]string
	months        [12]string
	dateLayout    string // weekday, day, month, year (see date)
}

var english = words{
	Lang:          "en",
	exported:      "Transcript exported %s.",
	topic:         "Topic: %s",
	Deleted:       "message deleted",
	truncatedNote: "Earlier messages (before #%d) are no longer kept by the host.",
	private:       "private conversation",
	closed:        " (closed)",
	oneMessage:    "1 message",
	messages:      "%d messages",
	lobby:         "lobby",
	Edited:        " · (edited)",
	replyingTo:    "replying to %s (#%d)",
	aMessage:      "a message",
	pollOpen:      "Poll (open)",
	pollClosed:    "Poll (closed)",
	oneVote:       "1 vote",
	votesN:        "%d votes",
	dateLayout:    "%[1]s, %[2]d %[3]s %[4]d",
	weekdays:      [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"},
}

var portuguese = words{
	Lang:          "pt-BR",
	exported:      "Transcrição exportada em %s.",
	topic:         "Tema: %s",
	Deleted:       "mensagem apagada",
	truncatedNote: "As mensagens anteriores (antes da nº %d) não estão mais guardadas no computador do anfitrião.",
	private:       "conversa privada",
	closed:        " (fechada)",
	oneMessage:    "1 mensagem",
	messages:      "%d mensagens",
	lobby:         "Geral",
	Edited:        " · (editada)",
	replyingTo:    "em resposta a %s (nº %d)",
	aMessage:      "uma mensagem",
	pollOpen:      "Enquete (aberta)",
	pollClosed:    "Enquete (encerrada)",
	oneVote:       "1 voto",
	votesN:        "%d votos",
	dateLayout:    "%[1]s, %[2]d de %[3]s de %[4]d",
	weekdays:      [7]string{"domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"},
	months: [12]string{"janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
		"outubro", "novembro", "dezembro"},
}

// wordsFor picks the words for a language tag ("pt-BR", "pt", "en"…).
func wordsFor(lang string) words {
	if l := strings.ToLower(lang); l == "pt" || strings.HasPrefix(l, "pt-") || strings.HasPrefix(l, "pt_") {
		return portuguese
	}
	return english
}

// date is a day as the transcript heads it: "Monday, 2 January 2006",
// "segunda-feira, 2 de janeiro de 2006".
func (w words) date(t time.Time) string {
	return fmt.Sprintf(w.dateLayout, w.weekdays[t.Weekday()], t.Day(), w.months[t.Month()-1], t.Year())
}

func (w words) roomLabel(r Room) string {
	label := r.Name
	if protocol.RoomKey(r.Name) == chat.Lobby {
		label = w.lobby
	}
	if r.Private {
		label = w.private
		if len(r.People) > 0 {
			label += ": " + strings.Join(r.People, ", ")
		}
	}
	if r.Closed {
		label += w.closed
	}
	return label
}

func (w words) count(n int) string {
	if n == 1 {
		return w.oneMessage
	}
	return fmt.Sprintf(w.messages, n)
}

// reply says which message a reply answers ("" for a message that is not
// a reply).
func (w words) reply(m chat.Folded) string {
	if m.ReplyTo == 0 {
		return ""
	}
	who := w.aMessage
	if m.ReplyFrom != nil {
		who = m.ReplyFrom.Name
	}
	return fmt.Sprintf(w.replyingTo, who, m.ReplyTo)
}

// poll heads a poll: open or closed.
func (w words) poll(m chat.Folded) string {
	if m.Closed {
		return w.pollClosed
	}
	return w.pollOpen
}

func (w words) votes(n int) string {
	if n == 1 {
		return w.oneVote
	}
	return fmt.Sprintf(w.votesN, n)
}

package jsstore

import (
	"fmt"
	"testing"

	"lanchat/backend/chat/storetest"
)

// BenchmarkAppend: one sender, acks per second, on one box and on three
// (the sender on a box that may or may not lead the stream).
func BenchmarkAppend(b *testing.B) {
	for _, boxes := range []int{1, 3} {
		b.Run(fmt.Sprintf("R%d", boxes), func(b *testing.B) {
			s := open(b, startNodes(b, boxes)[boxes-1], Options{})
			b.ResetTimer()
			for i := range b.N {
				if _, _, err := s.Append("general", storetest.Msg("general", 0, fmt.Sprintf("c-%d", i), "hello there")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSince1000: a resume of 1,000 missed messages.
func BenchmarkSince1000(b *testing.B) {
	for _, boxes := range []int{1, 3} {
		b.Run(fmt.Sprintf("R%d", boxes), func(b *testing.B) {
			s := open(b, startNodes(b, boxes)[boxes-1], Options{})
			storetest.AppendN(b, s, "general", 1, 1100)
			b.ResetTimer()
			for range b.N {
				got, _, err := s.Since("general", 100, 1000)
				if err != nil || len(got) != 1000 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkLast3: the small read the hub does per join.
func BenchmarkLast3(b *testing.B) {
	for _, boxes := range []int{1, 3} {
		b.Run(fmt.Sprintf("R%d", boxes), func(b *testing.B) {
			s := open(b, startNodes(b, boxes)[boxes-1], Options{})
			storetest.AppendN(b, s, "general", 1, 10)
			b.ResetTimer()
			for range b.N {
				if got, _, err := s.Last("general", 3); err != nil || len(got) != 3 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

//go:build race

package server

// raceEnabled: the race detector slows a thousand connections about
// tenfold, so the crowd tests use fewer members under it; `make test-burst`
// runs them at full size without it.
const raceEnabled = true

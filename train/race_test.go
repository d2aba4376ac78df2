//go:build race

package train

// raceEnabled reports whether the race detector is on: it makes sync.Pool
// drop pooled values at random, so allocation counts mean nothing.
const raceEnabled = true

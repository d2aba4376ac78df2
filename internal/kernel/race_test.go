//go:build race

package kernel

// raceEnabled is set under the race detector, which makes the float64
// reference about 20 times slower: the largest checks are thinned.
const raceEnabled = true

//go:build race

package verify

// raceEnabled reports whether the race detector is on; it makes the model
// zoo take minutes, so TestZoo skips under it.
const raceEnabled = true

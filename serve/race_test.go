//go:build race

package serve

// raceEnabled reports whether the race detector is on: the load test then
// sends fewer requests.
const raceEnabled = true

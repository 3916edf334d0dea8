//go:build race

package esoed

// raceEnabled: the race detector allocates beside the code, so allocation bounds do not hold.
const raceEnabled = true

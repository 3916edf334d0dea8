//go:build !race

package esoed

const raceEnabled = false

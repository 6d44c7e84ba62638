//go:build race

package procfs

// raceEnabled widens the memory bound of the known-child test: the race
// detector's shadow memory roughly doubles the helper's resident set.
const raceEnabled = true

// Package units formats the numbers of a run for people, the same way in
// the figures' axes and in the report's tables: counts with k and M
// (10k connections), sizes in binary units (20 KiB), durations given in
// microseconds (2.5 ms) and percentiles (99.9%).
package units

package plot_test

import (
	"testing"

	"c10k/harness/plot"
	"c10k/harness/plot/plottest"
)

// fixtureInput is the fixture as the figures see it, spectra included,
// read back from a directory written by plottest.WriteFixture so the
// loading path is tested too.
func fixtureInput(t *testing.T) plot.Input {
	t.Helper()
	dir := t.TempDir()
	if err := plottest.WriteFixture(dir); err != nil {
		t.Fatal(err)
	}
	run, scs := plottest.Fixture()
	spectra, level, err := plot.LoadSpectra(dir, scs)
	if err != nil {
		t.Fatalf("LoadSpectra: %v", err)
	}
	return plot.Input{Run: run, Scenarios: scs, Spectra: spectra, SpectrumLevel: level}
}

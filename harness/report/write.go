package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"text/template"
	"unicode"

	"c10k/harness/results"
)

//go:embed report.md.tmpl
var reportTemplate string

// tmpl is parsed once; missingkey=error turns a typo in the template into
// an error rather than a "<no value>" in the report.
var tmpl = template.Must(template.New("report").
	Funcs(template.FuncMap{"anchor": anchor}).
	Option("missingkey=error").
	Parse(reportTemplate))

// Render writes the report for d as Markdown.
func Render(w io.Writer, d *Data) error {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: writing: %w", err)
	}
	return nil
}

// Generate builds the data model of a run and renders it: the report
// that will be written at outPath, for the results in runDir, with the
// scale scenario of a second run when scale is not nil (see [Build]).
func Generate(run results.Run, scs []results.Scenario, runDir, outPath string, scale *ScaleRun) ([]byte, error) {
	d, err := Build(run, scs, runDir, outPath, scale)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := Render(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// anchor is the fragment GitHub gives a Markdown heading: lower case,
// punctuation dropped, spaces turned into hyphens.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

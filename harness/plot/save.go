package plot

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WritePNG draws the figure as a PNG at 96 dpi.
func (f *Figure) WritePNG(w io.Writer) error {
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi))
	if err := f.drawSafely(c); err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("plot: encoding %s.png: %w", f.Name, err)
	}
	return nil
}

// WriteSVG draws the figure as an SVG of the same size.
func (f *Figure) WriteSVG(w io.Writer) error {
	c := vgsvg.New(f.Width, f.Height)
	if err := f.drawSafely(c); err != nil {
		return err
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("plot: encoding %s.svg: %w", f.Name, err)
	}
	return nil
}

// drawSafely draws on c and turns a gonum panic (it panics on, say, a log
// axis asked to show zero) into an error: a figure that cannot be drawn
// must not take the other figures, or the report, down with it.
func (f *Figure) drawSafely(c vg.CanvasSizer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing %s: %v", f.Name, r)
		}
	}()
	f.Draw(draw.New(c))
	return nil
}

// Save writes DIR/NAME.png and DIR/NAME.svg, each atomically (temporary
// file, then rename), and returns their paths.
func (f *Figure) Save(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plot: creating %s: %w", dir, err)
	}
	var paths []string
	for _, out := range []struct {
		ext   string
		write func(io.Writer) error
	}{
		{".png", f.WritePNG},
		{".svg", f.WriteSVG},
	} {
		var buf bytes.Buffer
		if err := out.write(&buf); err != nil {
			return paths, err
		}
		path := filepath.Join(dir, f.Name+out.ext)
		if err := writeAtomic(path, buf.Bytes()); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees half a figure.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	return nil
}

package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The plot's geometry, in pixels.
const (
	plotWidth   = 1100
	plotHeight  = 500
	plotTop     = 70 // above the plotting areas: title, panel titles
	plotBottom  = 80 // below: x tick labels, x label, legend
	panelLeft   = 75 // inside each panel, left of the plotting area
	panelRight  = 25 // inside each panel, right of it
	markerSize  = 9  // side of a point's square
	legendBox   = 12 // side of a legend's colored box
	glyphWidth  = 7  // basicfont.Face7x13
	glyphHeight = 13
)

// plotColor gives each handler its color.
func plotColor(handler string) color.RGBA {
	switch handler {
	case handlerBare:
		return color.RGBA{0x80, 0x80, 0x80, 0xff}
	case handlerHandwritten:
		return color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	case handlerPaylinkOTel:
		return color.RGBA{0x2c, 0xa0, 0x2c, 0xff}
	}
	return color.RGBA{0xe6, 0x6a, 0x00, 0xff}
}

// writePlot draws callbacks/s against concurrency, one panel per database
// and one line per handler, both axes logarithmic, and writes it as a PNG.
func writePlot(path string, results []cellResult, cfg config) error {
	var dbs []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range results {
		if r.c == 0 || r.load.rate() <= 0 {
			continue
		}
		if !slices.Contains(dbs, r.db) {
			dbs = append(dbs, r.db)
		}
		lo, hi = min(lo, r.load.rate()), max(hi, r.load.rate())
	}
	if len(dbs) == 0 {
		return fmt.Errorf("plot: no closed-loop results")
	}
	yLo, yHi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if yHi == yLo {
		yHi++
	}
	xLo, xHi := math.Log2(float64(slices.Min(cfg.conc))), math.Log2(float64(slices.Max(cfg.conc)))
	pad := max(0.3, (xHi-xLo)*0.08)
	xLo, xHi = xLo-pad, xHi+pad

	img := image.NewRGBA(image.Rect(0, 0, plotWidth, plotHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	black := color.RGBA{0, 0, 0, 0xff}
	grid := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	faint := color.RGBA{0xf0, 0xf0, 0xf0, 0xff}
	title := "Flip callbacks per second against client concurrency (closed loop, higher is better)"
	text(img, (plotWidth-glyphWidth*len(title))/2, 22, title, black)

	panelWidth := plotWidth / len(dbs)
	for p, db := range dbs {
		left, right := p*panelWidth+panelLeft, (p+1)*panelWidth-panelRight
		top, bottom := plotTop, plotHeight-plotBottom
		px := func(c int) int {
			return left + int(float64(right-left)*(math.Log2(float64(c))-xLo)/(xHi-xLo))
		}
		py := func(rate float64) int {
			return bottom - int(float64(bottom-top)*(math.Log10(rate)-yLo)/(yHi-yLo))
		}
		name := dbTitle(db)
		text(img, (left+right-glyphWidth*len(name))/2, top-12, name, black)

		// Grid: decades, with fainter lines at 2x and 5x.
		for e := yLo; e <= yHi; e++ {
			for _, m := range []float64{2, 5} {
				if e < yHi {
					hline(img, left, right, py(m*math.Pow(10, e)), faint)
				}
			}
			y := py(math.Pow(10, e))
			hline(img, left, right, y, grid)
			label := shortNumber(math.Pow(10, e))
			text(img, left-8-glyphWidth*len(label), y+4, label, black)
		}
		for _, c := range cfg.conc {
			x := px(c)
			vline(img, x, top, bottom, grid)
			label := fmt.Sprint(c)
			text(img, x-glyphWidth*len(label)/2, bottom+18, label, black)
		}
		// Axes.
		hline(img, left, right, bottom, black)
		vline(img, left, top, bottom, black)
		xl := "concurrency c (clients, log scale)"
		text(img, (left+right-glyphWidth*len(xl))/2, bottom+38, xl, black)
		yl := "callbacks/s (log scale)"
		verticalText(img, left-62, (top+bottom+glyphWidth*len(yl))/2, yl, black)

		for _, h := range cfg.handlers {
			var pts []image.Point
			for _, c := range cfg.conc {
				if r := find(results, h, db, c); r != nil && r.load.rate() > 0 {
					pts = append(pts, image.Pt(px(c), py(r.load.rate())))
				}
			}
			col := plotColor(h)
			for i := 1; i < len(pts); i++ {
				line(img, pts[i-1], pts[i], col)
			}
			for _, pt := range pts {
				fill(img, image.Rect(pt.X-markerSize/2, pt.Y-markerSize/2, pt.X+markerSize/2+1, pt.Y+markerSize/2+1), col)
			}
		}
	}

	// Legend, centred under the panels.
	width := 0
	for _, h := range cfg.handlers {
		width += legendBox + 6 + glyphWidth*len(h) + 24
	}
	x, y := (plotWidth-width)/2, plotHeight-18
	for _, h := range cfg.handlers {
		fill(img, image.Rect(x, y-legendBox+2, x+legendBox, y+2), plotColor(h))
		text(img, x+legendBox+6, y, h, black)
		x += legendBox + 6 + glyphWidth*len(h) + 24
	}

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("plot: %w", err)
	}
	return f.Close()
}

// dbTitle is a database's panel title.
func dbTitle(db string) string {
	if db == dbPostgres {
		return "PostgreSQL"
	}
	return "SQLite"
}

// shortNumber writes 1000 as 1k and 1000000 as 1M.
func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// text draws s with its baseline at (x, y).
func text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// verticalText draws s rotated a quarter turn counter-clockwise, reading
// upwards from (x, y), its glyphs' tops towards x.
func verticalText(img *image.RGBA, x, y int, s string, c color.Color) {
	w := glyphWidth * len(s)
	tmp := image.NewRGBA(image.Rect(0, 0, w, glyphHeight+3))
	text(tmp, 0, glyphHeight-2, s, c)
	for ty := range tmp.Bounds().Dy() {
		for tx := range w {
			if _, _, _, a := tmp.At(tx, ty).RGBA(); a > 0 {
				img.Set(x+ty, y-tx, tmp.At(tx, ty))
			}
		}
	}
}

func fill(img draw.Image, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func hline(img draw.Image, x0, x1, y int, c color.Color) { fill(img, image.Rect(x0, y, x1+1, y+1), c) }

func vline(img draw.Image, x, y0, y1 int, c color.Color) { fill(img, image.Rect(x, y0, x+1, y1+1), c) }

// line draws a line two pixels thick from a to b.
func line(img draw.Image, a, b image.Point, c color.Color) {
	steps := max(abs(b.X-a.X), abs(b.Y-a.Y), 1)
	for i := 0; i <= steps; i++ {
		x := a.X + (b.X-a.X)*i/steps
		y := a.Y + (b.Y-a.Y)*i/steps
		fill(img, image.Rect(x-1, y-1, x+1, y+1), c)
	}
}

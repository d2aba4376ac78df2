package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr while stderr is a terminal, and
// does nothing otherwise (a pipe, a file, a test), so that redirected
// output holds results only. The zero value and nil do nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress starts a bar counting to total, labelled with description.
// It is cleared when done, so that the next line of output starts clean.
func newProgress(total int, description string) *progress {
	f, ok := stderr.(*os.File)
	if !ok || total <= 0 || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("images"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

// add advances the bar by n.
func (p *progress) add(n int) {
	if p != nil && p.bar != nil {
		p.bar.Add(n)
	}
}

// describe changes the bar's label (e.g. the epoch).
func (p *progress) describe(description string) {
	if p != nil && p.bar != nil {
		p.bar.Describe(description)
	}
}

// reset starts the bar again from 0, e.g. for the next epoch.
func (p *progress) reset() {
	if p != nil && p.bar != nil {
		p.bar.Reset()
	}
}

// done clears the bar from the terminal.
func (p *progress) done() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
	}
}

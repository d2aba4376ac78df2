package sysmem

import (
	"os"
	"testing"
)

func TestTotal(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo")
	}
	// Any machine that runs the tests has more than 64 MiB and less than
	// 1 PiB.
	if got := Total(); got < 64<<20 || got > 1<<50 {
		t.Errorf("Total() = %d, want a plausible memory size", got)
	}
}

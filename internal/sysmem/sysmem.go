// Package sysmem tells how much memory the process may use: the machine's
// RAM, or its cgroup's limit when that is smaller.
package sysmem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Total is the memory available to the process in bytes: MemTotal from
// /proc/meminfo, or the cgroup v2 memory limit when that is smaller; 0 when
// neither can be read.
func Total() int64 {
	total := memTotal()
	if lim := cgroupLimit(); lim > 0 && (total <= 0 || lim < total) {
		total = lim
	}
	return total
}

// memTotal is MemTotal from /proc/meminfo in bytes, or 0.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil || kb <= 0 || kb > 1<<50 {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit is the cgroup v2 memory limit in bytes, or 0 when there is
// none.
func cgroupLimit() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0 // "max" or unreadable
	}
	return n
}

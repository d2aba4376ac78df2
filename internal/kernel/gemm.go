package kernel

import (
	"runtime"
	"sync"
)

//go:generate sh -c "cd asm && go run gen.go -out ../kernels_amd64.s -stubs ../kernels_stub_amd64.go -pkg kernel"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(X) is X or its transpose. op(A) is m x k, op(B) is k x n
// and C is m x n. lda, ldb and ldc are the row strides of A, B and C as
// stored. When beta is 0, C is not read (NaNs in it do not propagate);
// when alpha is 0 or k is 0, A and B are not read, as in BLAS. Otherwise
// NaN and Inf propagate as in the plain sum of products (0*NaN is NaN).
// It panics when a slice is too short for its size and stride.
//
// Results do not depend on GOMAXPROCS: large products are split across
// goroutines by blocks of C, never along k, so every element is summed in
// the same order. When B is not transposed they do not depend on the
// shape either: element C[i][j] is summed in the same order whatever m
// and n are and wherever row i and column j lie, so computing a batch of
// rows at once gives each row exactly what computing it alone gives.

func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(nil, nil, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// sgemm is Sgemm, taking A's packed panels from pa when it is not nil
// (then alpha must be 1), and B's from pb (then B is not transposed),
// with ep, when not nil, called on each block of C as it is finished.
func sgemm(pa *PackedA, pb *PackedB, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, ep Epilogue) {
	if m <= 0 || n <= 0 {
		return
	}
	checkOperand("C", false, m, n, c, ldc)
	if k <= 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		if ep != nil {
			ep.Finish(0, m, 0, n)
		}
		return
	}
	checkOperand("A", transA, m, k, a, lda)
	checkOperand("B", transB, k, n, b, ldb)
	g := gemm{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, packed: pa, packedB: pb, ep: ep}
	// Products with few rows, and small ones, are not worth packing.
	// (The plain Go micro-kernel is slower than Go axpys for up to 8 rows.)
	axpyRows := 2
	if !HasAVX2 {
		axpyRows = 8
	}
	small := m*n*k < 4096
	rowsMode := !transB && (small || m <= axpyRows)
	switch {
	case rowsMode && (pb == nil || m*n*k < 1<<18):
		if beta != 0 {
			scaleC(m, n, beta, c, ldc)
		}
		g.rows(beta == 0, 0, n)
		g.finish(0, m, 0, n)
		return
	case transB && !transA && m <= 4:
		scaleC(m, n, beta, c, ldc)
		g.dots()
		g.finish(0, m, 0, n)
		return
	case small:
		scaleC(m, n, beta, c, ldc)
		g.naive()
		g.finish(0, m, 0, n)
		return
	}
	if beta == 0 {
		g.overwrite = true
	} else {
		scaleC(m, n, beta, c, ldc)
	}
	// Granularity of the split of C between workers: whole tiles.
	rowStep, colStep := mr, nr
	switch {
	case HasAVX512 && !rowsMode && pa == nil && !transA && !transB && alpha == 1 && n <= nr && m >= narrowRows:
		// A narrow C: twelve rows of A at a time, read in place.
		g.mode, rowStep = modeNarrow, narrowRows
	case rowsMode:
		// A few rows times a large packed B: each worker reads its own
		// columns of B, in gemvPanels' strips.
		g.mode, rowStep, colStep = modeRows, m, 64
	case g.useDot():
		g.mode, rowStep, colStep = modeDot, 3, 3
	case !transB && m <= 4*mr && pb == nil:
		g.mode = modeBInPlace
	}
	workers := runtime.GOMAXPROCS(0)
	if m*n*k < 1<<20 && !rowsMode {
		workers = 1
	}
	// Split C into one block per worker, in whole tiles: by rows when C is
	// at least as tall as wide or B is packed already (each worker then
	// packs only its own rows of A), else by columns; the other way when
	// one block would hold everything.
	colBlock := roundUp((n+workers-1)/workers, colStep)
	rowBlock := roundUp((m+workers-1)/workers, rowStep)
	cols, rows := n, m
	switch {
	case rowBlock < m && (m >= n || pb != nil || colBlock >= n):
		rows = rowBlock
	case colBlock < n:
		cols = colBlock
	}
	if rows >= m && cols >= n {
		g.block(0, m, 0, n)
		return
	}
	call := calls.get()
	call.g = g
	call.jobs = call.jobs[:0]
	for i0 := 0; i0 < m; i0 += rows {
		for j0 := 0; j0 < n; j0 += cols {
			if i0 == 0 && j0 == 0 {
				continue // the caller's own block, below
			}
			call.jobs = append(call.jobs, job{call, i0, min(i0+rows, m), j0, min(j0+cols, n)})
		}
	}
	call.wg.Add(len(call.jobs))
	for i := range call.jobs {
		if !TryRun(&call.jobs[i]) { // every worker is busy: do it here
			call.jobs[i].Run()
		}
	}
	call.g.block(0, min(rows, m), 0, min(cols, n))
	call.wg.Wait()
	clear(call.jobs)
	call.g = gemm{}
	calls.put(call)
}

// PackedA is the A operand of matrix products packed once into the
// micro-kernel's panels. For a constant A used in many products (a
// model's weights), PackedA.Sgemm skips the packing that Sgemm repeats on
// every call; its results equal Sgemm's bit for bit.
type PackedA struct {
	transA bool
	m, k   int
	a      []float32 // A itself, for the paths that do not pack
	lda    int
	panels []float32 // k blocks of kc, each roundUp(m, mr) rows of panels
}

// PackA packs op(A), an m x k matrix stored with row stride lda
// (transposed when transA). A must not change while the PackedA is in
// use. It panics when a is too short for its size and stride.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	p := new(PackedA)
	p.Repack(transA, m, k, a, lda)
	return p
}

// Repack packs op(A) into p as PackA does, reusing p's storage when it is
// large enough: for an A that changes between uses (weights in training).
func (p *PackedA) Repack(transA bool, m, k int, a []float32, lda int) {
	checkOperand("A", transA, m, k, a, lda)
	panels := p.panels
	*p = PackedA{transA: transA, m: max(m, 0), k: max(k, 0), a: a, lda: lda}
	mp := roundUp(p.m, mr)
	if cap(panels) < mp*p.k {
		panels = make([]float32, mp*p.k)
	}
	p.panels = panels[:mp*p.k]
	g := gemm{transA: transA, m: p.m, k: p.k, alpha: 1, a: a, lda: lda}
	for pc := 0; pc < p.k; pc += kc {
		g.packA(p.panels[pc*mp:], 0, p.m, pc, min(kc, p.k-pc))
	}
}

// Sgemm computes C = A*B + beta*C for the packed A (m x k) and a B (k x n,
// row stride ldb, not transposed), as Sgemm(transA, false, m, n, k, 1, A,
// lda, B, ldb, beta, C, ldc) does.
func (p *PackedA) Sgemm(n int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(p, nil, p.transA, false, p.m, n, p.k, 1, p.a, p.lda, b, ldb, beta, c, ldc, nil)
}

// SgemmThen sets C = A*B as Sgemm with beta 0 does, and calls
// ep.Finish on each block of C once it holds its final values, from the
// goroutine that computed it, while the block is still in cache: a
// bias and an activation applied there save passes over all of C.
func (p *PackedA) SgemmThen(n int, b []float32, ldb int, c []float32, ldc int, ep Epilogue) {
	sgemm(p, nil, p.transA, false, p.m, n, p.k, 1, p.a, p.lda, b, ldb, 0, c, ldc, ep)
}

// Epilogue finishes the blocks of a product (see PackedA.SgemmThen):
// Finish(i0, i1, j0, j1) is called once for each block C[i0:i1, j0:j1]
// of a partition of C, possibly from several goroutines at once.
type Epilogue interface {
	Finish(i0, i1, j0, j1 int)
}

// PackedB is the B operand of matrix products (not transposed) packed
// once into the micro-kernel's panels, as PackedA is for A.
type PackedB struct {
	k, n   int
	b      []float32 // B itself, for the paths that do not pack
	ldb    int
	panels []float32 // nc-column blocks, each k blocks of kc rows of nr-wide panels
}

// PackB packs B, a k x n matrix stored with row stride ldb. B must not
// change while the PackedB is in use. It panics when b is too short for
// its size and stride.
func PackB(k, n int, b []float32, ldb int) *PackedB {
	checkOperand("B", false, k, n, b, ldb)
	p := &PackedB{k: max(k, 0), n: max(n, 0), b: b, ldb: ldb}
	p.panels = make([]float32, roundUp(p.n, nr)*p.k)
	g := gemm{k: p.k, n: p.n, b: b, ldb: ldb}
	for jc := 0; jc < p.n; jc += nc {
		ncb := min(nc, p.n-jc)
		for pc := 0; pc < p.k; pc += kc {
			g.packB(p.block(pc, jc), pc, min(kc, p.k-pc), jc, ncb)
		}
	}
	return p
}

// Sgemm computes C = alpha*op(A)*B + beta*C for the packed B (k x n), as
// Sgemm(transA, false, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
// does, with the same results bit for bit.
func (p *PackedB) Sgemm(transA bool, m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	sgemm(nil, p, transA, false, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, beta, c, ldc, nil)
}

// K and N are the sizes of the packed matrix.
func (p *PackedB) K() int { return p.k }
func (p *PackedB) N() int { return p.n }

// block returns the panels of columns from jc (a multiple of nr) in the k
// block starting at pc.
func (p *PackedB) block(pc, jc int) []float32 {
	js := jc / nc * nc
	w := roundUp(min(nc, p.n-js), nr)
	return p.panels[js*p.k+pc*w+(jc-js)*min(kc, p.k-pc):]
}

// M and K are the sizes of the packed matrix.
func (p *PackedA) M() int { return p.m }
func (p *PackedA) K() int { return p.k }

// block returns the panels of rows from ic (a multiple of mr) in the k
// block starting at pc.
func (p *PackedA) block(pc, ic int) []float32 {
	return p.panels[pc*roundUp(p.m, mr)+ic*min(kc, p.k-pc):]
}

// checkOperand panics unless x holds a rows x cols matrix (stored
// transposed when trans) with row stride ld.
func checkOperand(name string, trans bool, rows, cols int, x []float32, ld int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if trans {
		rows, cols = cols, rows
	}
	if ld < cols || len(x) < (rows-1)*ld+cols {
		panic("kernel: Sgemm: " + name + " is too short for its size and stride")
	}
}

// call is one Sgemm split across workers.
type call struct {
	g    gemm
	wg   sync.WaitGroup
	jobs []job // the blocks handed to workers
}

var calls freeList[call]

// job is the block of rows [i0, i1) and columns [j0, j1) of a call's C.
type job struct {
	c              *call
	i0, i1, j0, j1 int
}

// Run computes the block.
func (j *job) Run() {
	defer j.c.wg.Done()
	j.c.g.block(j.i0, j.i1, j.j0, j.j1)
}

// scaleC sets C to beta*C, writing zeros without reading C when beta is 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemm is one call's operands. C has already been scaled by beta, unless
// overwrite is set.
type gemm struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	mode           mode
	// packed, when set, is A already packed (see PackedA), alpha applied;
	// packedB is B already packed (see PackedB).
	packed  *PackedA
	packedB *PackedB
	// overwrite is set when beta is 0: C has not been cleared, and the
	// first k block stores its results instead of adding them.
	overwrite bool
	ep        Epilogue // called on each finished block, or nil
}

// finish calls the epilogue, if any, on a finished block of C.
func (g *gemm) finish(i0, i1, j0, j1 int) {
	if g.ep != nil && i0 < i1 && j0 < j1 {
		g.ep.Finish(i0, i1, j0, j1)
	}
}

// mode is how a gemm computes its blocks of C.
type mode uint8

const (
	modePacked   mode = iota // pack A and B, run the 6x16 micro-kernel
	modeBInPlace             // pack A only: the micro-kernel reads B's full panels in place
	modeDot                  // 3x3 tiles of dot products of rows of A and rows of B
	modeRows                 // row by row, as vector-matrix products (see rows)
	modeNarrow               // C of one panel's width, narrowRows rows at a time (see narrow)
)

// block adds alpha*op(A)*op(B) to rows [i0, i1) and columns [j0, j1) of C.
func (g *gemm) block(i0, i1, j0, j1 int) {
	switch g.mode {
	case modeRows:
		g.rows(g.overwrite, j0, j1)
	case modeNarrow:
		g.narrow(i0, i1)
	case modeDot:
		g.dotBlock(i0, i1, j0, j1)
	default:
		g.blocked(i0, i1, j0, j1) // finishes its own blocks
		return
	}
	g.finish(i0, i1, j0, j1)
}

func (g *gemm) at(i, p int) float32 {
	if g.transA {
		return g.a[p*g.lda+i]
	}
	return g.a[i*g.lda+p]
}

// naive adds alpha*op(A)*op(B) to C with plain loops, i-p-j order.
func (g *gemm) naive() {
	for i := range g.m {
		crow := g.c[i*g.ldc : i*g.ldc+g.n]
		for p := range g.k {
			av := g.alpha * g.at(i, p)
			if !g.transB {
				brow := g.b[p*g.ldb : p*g.ldb+g.n]
				for j, bv := range brow {
					crow[j] += av * bv
				}
				continue
			}
			for j := range crow {
				crow[j] += av * g.b[j*g.ldb+p]
			}
		}
	}
}

// Register tile (mr x nr, the micro-kernel's) and cache blocks.
const (
	mr = 6
	nr = 16
	kc = 256  // depth of a packed block
	mc = 96   // rows of A packed at once (a multiple of mr)
	nc = 1024 // columns of B packed at once (a multiple of nr)
)

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// packBuf holds one goroutine's packed panels.
type packBuf struct {
	a    [mc * kc]float32
	b    [kc * nc]float32
	tile [mr * 2 * nr]float32 // an edge tile, two panels wide (or narrowRows x nr)
}

// freeList keeps values for reuse. Unlike a sync.Pool it is not emptied by
// the garbage collector, so steady-state products never allocate (a pack
// buffer is over 1 MB: reallocating it after each collection would trigger
// the next one).
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

func (l *freeList[T]) get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.items); n > 0 {
		x := l.items[n-1]
		l.items = l.items[:n-1]
		return x
	}
	return new(T)
}

func (l *freeList[T]) put(x *T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) < 64 {
		l.items = append(l.items, x)
	}
}

var packBufs freeList[packBuf]

// blocked adds alpha*op(A)*op(B) to rows [i0, i1) and columns [j0, j1) of
// C: B is packed in
// kc x nc blocks of nr-wide panels, A in mc x kc blocks of mr-high panels,
// and the micro-kernel computes one mr x nr tile of C at a time.
func (g *gemm) blocked(i0, i1, j0, j1 int) {
	buf := packBufs.get()
	defer packBufs.put(buf)
	for jc := j0; jc < j1; {
		ncb := min(nc, j1-jc)
		if g.packedB != nil {
			// Packed blocks start every nc columns.
			ncb = min(ncb, roundUp(jc+1, nc)-jc)
		}
		for pc := 0; pc < g.k; pc += kc {
			kcb := min(kc, g.k-pc)
			bp := buf.b[:]
			switch {
			case g.packedB != nil:
				bp = g.packedB.block(pc, jc)
			case g.mode == modeBInPlace:
				// Only a last, partial panel needs packing (with zeros).
				if full := ncb / nr * nr; full < ncb {
					g.packB(bp, pc, kcb, jc+full, ncb-full)
				}
			default:
				g.packB(bp, pc, kcb, jc, ncb)
			}
			for ic := i0; ic < i1; ic += mc {
				mcb := min(mc, i1-ic)
				ap := buf.a[:]
				if g.packed != nil {
					ap = g.packed.block(pc, ic)
				} else {
					g.packA(ap, ic, mcb, pc, kcb)
				}
				g.macro(buf, ap, bp, ic, mcb, pc, jc, ncb, kcb, g.overwrite && pc == 0)
				if pc+kcb == g.k {
					g.finish(ic, ic+mcb, jc, jc+ncb)
				}
			}
		}
		jc += ncb
	}
}

// packB copies op(B)[pc:pc+kcb, jc:jc+ncb] into nr-wide panels, each stored
// row after row (kcb rows of nr values), zero-padding the last panel.
func (g *gemm) packB(dst []float32, pc, kcb, jc, ncb int) {
	for jp := 0; jp < ncb; jp += nr {
		w := min(nr, ncb-jp)
		panel := dst[jp*kcb : jp*kcb+kcb*nr]
		if g.transB {
			// Read each row of the stored B^T in order.
			for j := range nr {
				if j >= w {
					for p := range kcb {
						panel[p*nr+j] = 0
					}
					continue
				}
				src := g.b[(jc+jp+j)*g.ldb+pc:][:kcb]
				for p, v := range src {
					panel[p*nr+j] = v
				}
			}
			continue
		}
		for p := range kcb {
			row := panel[p*nr : p*nr+nr]
			copy(row[:w], g.b[(pc+p)*g.ldb+jc+jp:][:w])
			clear(row[w:])
		}
	}
}

// packA copies alpha*op(A)[ic:ic+mcb, pc:pc+kcb] into mr-high panels, each
// stored column after column (kcb columns of mr values), zero-padding the
// last panel.
func (g *gemm) packA(dst []float32, ic, mcb, pc, kcb int) {
	for ip := 0; ip < mcb; ip += mr {
		h := min(mr, mcb-ip)
		panel := dst[ip*kcb : ip*kcb+kcb*mr]
		if h < mr {
			clear(panel)
		}
		if g.transA {
			for p := range kcb {
				src := g.a[(pc+p)*g.lda+ic+ip:][:h]
				for i, v := range src {
					panel[p*mr+i] = g.alpha * v
				}
			}
			continue
		}
		if h == mr && g.alpha == 1 {
			// A full panel: six rows at once, the panel written in order
			// (eight columns at a time by the vector kernel).
			base := (ic+ip)*g.lda + pc
			done := packA6Vec(panel, g.a[base:], g.lda, kcb)
			r0, r1, r2 := g.a[base:][:kcb], g.a[base+g.lda:][:kcb], g.a[base+2*g.lda:][:kcb]
			r3, r4, r5 := g.a[base+3*g.lda:][:kcb], g.a[base+4*g.lda:][:kcb], g.a[base+5*g.lda:][:kcb]
			for p := done; p < kcb; p++ {
				d := (*[mr]float32)(panel[p*mr:])
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		// Read each row of A in order.
		for i := range h {
			src := g.a[(ic+ip+i)*g.lda+pc:][:kcb]
			for p, v := range src {
				panel[p*mr+i] = g.alpha * v
			}
		}
	}
}

// macro runs the micro-kernel over the packed blocks (A's in apack, B's in bpack) (in modeBInPlace,
// over B itself for full panels and over the packed last panel). Full
// tiles are accumulated in C directly; edge tiles go through a scratch
// tile. With overwrite set, results are stored in C instead of added.
func (g *gemm) macro(buf *packBuf, apack, bpack []float32, ic, mcb, pc, jc, ncb, kcb int, overwrite bool) {
	// panel returns the B panel of columns jp..jp+nr of the block.
	panel := func(jp int) ([]float32, int) {
		if g.mode == modeBInPlace {
			if jp+nr <= ncb {
				return g.b[pc*g.ldb+jc+jp:][:(kcb-1)*g.ldb+nr], g.ldb
			}
			return bpack[:kcb*nr], nr
		}
		return bpack[jp*kcb : jp*kcb+kcb*nr], nr
	}
	for jp := 0; jp < ncb; {
		w := min(nr, ncb-jp)
		bp, ldb := panel(jp)
		// With AVX-512, two full panels at once.
		var bp2 []float32
		if HasAVX512 && jp+2*nr <= ncb {
			bp2, _ = panel(jp + nr)
		}
		for ip := 0; ip < mcb; ip += mr {
			h := min(mr, mcb-ip)
			ap := apack[ip*kcb : ip*kcb+kcb*mr]
			off := (ic+ip)*g.ldc + jc + jp
			switch {
			case bp2 != nil && h == mr:
				microKernelPair(kcb, ap, bp, bp2, ldb, g.c[off:], g.ldc, overwrite)
			case bp2 != nil:
				t := buf.tile[:]
				microKernelPair(kcb, ap, bp, bp2, ldb, t, 2*nr, true)
				g.addTile(t, 2*nr, off, h, 2*nr, overwrite)
			case h == mr && w == nr:
				microKernel(kcb, ap, bp, ldb, g.c[off:], g.ldc, overwrite)
			default:
				g.edgeTile(buf, kcb, ap, bp, ldb, off, h, w, overwrite)
			}
		}
		if bp2 != nil {
			jp += 2 * nr
		} else {
			jp += nr
		}
	}
}

// edgeTile computes an h x w tile of C at off (h <= mr, w <= nr) through
// the scratch tile, with the same arithmetic as a full one.
func (g *gemm) edgeTile(buf *packBuf, kcb int, ap, bp []float32, ldb, off, h, w int, overwrite bool) {
	t := buf.tile[:]
	microKernel(kcb, ap, bp, ldb, t, nr, true)
	g.addTile(t, nr, off, h, w, overwrite)
}

// addTile adds the h x w tile t (rows ldt apart) to C at off, or stores
// it there with overwrite.
func (g *gemm) addTile(t []float32, ldt, off, h, w int, overwrite bool) {
	for i := range h {
		crow := g.c[off+i*g.ldc : off+i*g.ldc+w]
		if overwrite {
			copy(crow, t[i*ldt:])
			continue
		}
		for j := range crow {
			crow[j] += t[i*ldt+j]
		}
	}
}

// narrowRows is the height of the narrow kernel's tile.
const narrowRows = 12

// narrow computes rows [i0, i1) of a C at most nr wide: narrowRows rows
// of A at a time, read in place, times B's one panel (packed once a k
// block), with the micro-kernel's sums. The last rows go through a
// zero-padded copy of A and the scratch tile. Only with AVX-512.
func (g *gemm) narrow(i0, i1 int) {
	buf := packBufs.get()
	defer packBufs.put(buf)
	mask := uint16(1)<<g.n - 1 // n = 16: the shift gives 0, all ones
	for pc := 0; pc < g.k; pc += kc {
		kcb := min(kc, g.k-pc)
		bp := buf.b[:kcb*nr]
		if g.packedB != nil {
			bp = g.packedB.block(pc, 0)[:kcb*nr]
		} else {
			g.packB(bp, pc, kcb, 0, g.n)
		}
		overwrite := g.overwrite && pc == 0
		i := i0
		for ; i+narrowRows <= i1; i += narrowRows {
			microKernelNarrow(kcb, g.a[i*g.lda+pc:], g.lda, bp, g.c[i*g.ldc:], g.ldc, mask, overwrite)
		}
		if h := i1 - i; h > 0 {
			at := buf.a[:narrowRows*kcb]
			for r := range narrowRows {
				if r < h {
					copy(at[r*kcb:(r+1)*kcb], g.a[(i+r)*g.lda+pc:])
				} else {
					clear(at[r*kcb : (r+1)*kcb])
				}
			}
			t := buf.tile[:narrowRows*nr]
			microKernelNarrow(kcb, at, kcb, bp, t, nr, 1<<nr-1, true)
			g.addTile(t, nr, i*g.ldc, h, g.n, overwrite)
		}
	}
}

// microKernelGo is the plain Go micro-kernel: c[6x16] (rows ldc apart) +=
// the product of a packed 6 x k panel and a k x 16 panel (rows ldb apart);
// with overwrite, c = the product, without reading c.
func microKernelGo(k int, a, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	var acc [mr][nr]float32
	for p := range k {
		accumulate(&acc, a[p*mr:p*mr+mr], b[p*ldb:p*ldb+nr])
	}
	storeTile(&acc, c, ldc, overwrite)
}

// microKernelOffsetsGo is microKernelGo with row p of the B panel at
// b[offs[p]:].
func microKernelOffsetsGo(k int, a, b []float32, offs []int32, c []float32, ldc int, overwrite bool) {
	var acc [mr][nr]float32
	for p, o := range offs[:k] {
		accumulate(&acc, a[p*mr:p*mr+mr], b[o:o+nr])
	}
	storeTile(&acc, c, ldc, overwrite)
}

// accumulate adds the outer product of a column of A and a row of B to acc.
func accumulate(acc *[mr][nr]float32, ap, bp []float32) {
	for i, av := range ap {
		row := &acc[i]
		for j, bv := range bp {
			row[j] += av * bv
		}
	}
}

// storeTile adds acc to the tile at c (rows ldc apart), or stores it
// there with overwrite.
func storeTile(acc *[mr][nr]float32, c []float32, ldc int, overwrite bool) {
	for i := range mr {
		crow := c[i*ldc : i*ldc+nr]
		if overwrite {
			copy(crow, acc[i][:])
			continue
		}
		for j := range crow {
			crow[j] += acc[i][j]
		}
	}
}

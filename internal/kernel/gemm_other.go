//go:build !amd64 || noasm

package kernel

// HasAVX2 reports whether the AVX2/FMA kernels are in use: never in this
// build.
var HasAVX2 = false

func microKernel(k int, a, b, c []float32, ldc int) { microKernelGo(k, a, b, c, ldc) }

func tanhVec(dst, src []float32) int { return 0 }

func dotVec(x, y []float32) (float32, int)   { return 0, 0 }
func axpyVec(a float32, x, y []float32) int  { return 0 }
func scaleVec(a float32, x []float32) int    { return 0 }
func addConstVec(a float32, x []float32) int { return 0 }
func expVec(dst, src []float32) int          { return 0 }

"""Prints the coefficients of infer's float32 erf (infer/math.go, erfChunk):
least-squares polynomial fits, in float64, of erf(x)/x in x*x on [0, 0.875]
(degree 6) and of erfc(x)*exp(x*x) in t = 1/(1 + x/2) on [0.875, 10]
(degree 10), with their worst relative error on the fitting grid.

  /usr/bin/python3 scripts/erf_fit.py
"""

import math

import numpy as np

P = np.polynomial.polynomial

x = np.linspace(1e-6, 0.875, 20000)
y = np.array([math.erf(v) / v for v in x])
a = P.polyfit(x * x, y, 6)
print("erf(x)/x:", ", ".join("%.17g" % c for c in a))
print("  worst relative error", np.max(np.abs(P.polyval(x * x, a) / y - 1)))

z = np.linspace(0.875, 10, 40000)
r = np.array([math.erfc(v) * math.exp(v * v) for v in z])
t = 1 / (1 + 0.5 * z)
b = P.polyfit(t, r, 10)
print("erfc(x)*exp(x*x):", ", ".join("%.17g" % c for c in b))
print("  worst relative error", np.max(np.abs(P.polyval(t, b) / r - 1)))

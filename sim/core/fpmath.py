"""Portable floating point: the same bits on every machine.

NumPy's ``exp``, ``log``, ``sin``..., Python's ``math`` and the ``normal``, ``lognormal`` and
``exponential`` draws of ``numpy.random`` call the C library or NumPy's own SIMD code, and both
choose their implementation by the processor: glibc has separate FMA versions, NumPy separate
AVX-512 ones. Their results differ in the last bit from one machine to another, and over a
million citizens such a bit decides a step somewhere. The simulation therefore computes these
functions here, from IEEE additions, multiplications, divisions, ``sqrt``, ``frexp`` and
``ldexp`` only (each correctly rounded everywhere, and NumPy never fuses them), following
fdlibm's algorithms (Sun Microsystems, 1993) and Wichura's AS 241 for the normal quantile.
Accuracy is within a unit or two in the last place; identity across machines is exact.

``tests/core/test_fpmath.py`` holds each function to NumPy/SciPy and runs them under another
processor personality (no FMA, no AVX2) to show the same bits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LN10 = 2.30258509299404568402e00  # the natural logarithm of 10, for powers of ten
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SQRT_HALF = 0.70710678118654752440

# fdlibm e_log.c
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01

# fdlibm e_exp.c
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_EXP_MAX = 7.09782712893383973096e02
_EXP_MIN = -7.45133219101941108420e02

# fdlibm k_sin.c, k_cos.c, e_rem_pio2.c
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_2T = 2.02226624879595063154e-21
_TRIG_MAX = 8.0e5  # about 2**19 * pi/2: beyond it n * _PIO2_1 is no longer exact (fdlibm's medium case)

# AS 241 (PPND16), Wichura 1988
_A = (
    3.3871328727963666080e0,
    1.3314166789178437745e2,
    1.9715909503065514427e3,
    1.3731693765509461125e4,
    4.5921953931549871457e4,
    6.7265770927008700853e4,
    3.3430575583588128105e4,
    2.5090809287301226727e3,
)
_B = (
    1.0,
    4.2313330701600911252e1,
    6.8718700749205790830e2,
    5.3941960214247511077e3,
    2.1213794301586595867e4,
    3.9307895800092710610e4,
    2.8729085735721942674e4,
    5.2264952788528545610e3,
)
_C = (
    1.42343711074968357734e0,
    4.63033784615654529590e0,
    5.76949722146069140550e0,
    3.64784832476320460504e0,
    1.27045825245236838258e0,
    2.41780725177450611770e-1,
    2.27238449892691845833e-2,
    7.74545014278341407640e-4,
)
_D = (
    1.0,
    2.05319162663775882187e0,
    1.67638483018380384940e0,
    6.89767334985100004550e-1,
    1.48103976427480074590e-1,
    1.51986665636164571966e-2,
    5.47593808499534494600e-4,
    1.05075007164441684324e-9,
)
_E = (
    6.65790464350110377720e0,
    5.46378491116411436990e0,
    1.78482653991729133580e0,
    2.96560571828504891230e-1,
    2.65321895265761230930e-2,
    1.24266094738807843860e-3,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    5.99832206555887937690e-1,
    1.36929880922735805310e-1,
    1.48753612908506148525e-2,
    7.86869131145613259100e-4,
    1.84631831751005468180e-5,
    1.42151175831644588870e-7,
    2.04426310338993978564e-15,
)


def _poly(coef: tuple[float, ...], r: np.ndarray) -> np.ndarray:
    out = np.full_like(r, coef[-1])
    for c in coef[-2::-1]:
        out = out * r + c
    return out


def _log_kernel(f: Any, k: Any) -> Any:
    """``log((1 + f) * 2**k)`` for ``sqrt(1/2) <= 1 + f < sqrt(2)``: arrays or Python floats alike."""
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + k * _LN2_LO)) - f)


def _exp_kernel(x: Any, k: Any) -> Any:
    """``exp(x)`` over ``2**k``, with ``k`` the whole number nearest ``x / log(2)``."""
    hi = x - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    return 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)


def log(x: np.ndarray | float) -> np.ndarray:
    """Natural logarithm (fdlibm ``__ieee754_log``); 0 gives -inf, negatives NaN."""
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)  # x = m * 2**e, 0.5 <= |m| < 1
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    out = _log_kernel(m - 1.0, (e - low).astype(np.float64))
    special = ~((x > 0.0) & (x < np.inf))  # zero, negative, infinite or NaN: rare, fixed apart
    if special.any():
        xs = x[special]
        out = np.array(out, copy=True)
        out[special] = np.where(xs == 0.0, -np.inf, np.where(xs == np.inf, np.inf, np.nan))
    return out


def log10(x: np.ndarray | float) -> np.ndarray:
    """Common logarithm, ``log(x) / log(10)``."""
    return log(x) / LN10


def exp10(x: np.ndarray | float) -> np.ndarray:
    """``10 ** x`` as ``exp(x * log(10))``: within about ``5 |x|`` units in the last place (the rounded product)."""
    return exp(np.asarray(x, dtype=np.float64) * LN10)


def log1p(x: np.ndarray | float) -> np.ndarray:
    """``log(1 + x)``, accurate near 0: ``log(u) + (x - (u - 1)) / u`` with ``u = 1 + x`` rounded."""
    x = np.asarray(x, dtype=np.float64)
    u = 1.0 + x
    with np.errstate(divide="ignore", invalid="ignore"):
        out = log(u) + (x - (u - 1.0)) / u
        out = np.where(u == 1.0, x, out)
        return np.where(np.isinf(u) | (u == 0.0), log(u), out)


def exp(x: np.ndarray | float) -> np.ndarray:
    """``e ** x`` (fdlibm ``__ieee754_exp``)."""
    x = np.asarray(x, dtype=np.float64)
    special = ~((x >= _EXP_MIN) & (x <= _EXP_MAX))  # beyond the range, or NaN: rare, fixed apart
    xc = np.where(special, 0.0, x) if special.any() else x
    k = np.rint(xc * _INV_LN2)
    y = _exp_kernel(xc, k)
    with np.errstate(over="ignore", under="ignore"):
        out = np.ldexp(y, k.astype(np.int64))
    if xc is not x:
        xs = x[special]
        out = np.array(out, copy=True)
        out[special] = np.where(xs > _EXP_MAX, np.inf, np.where(xs < _EXP_MIN, 0.0, np.nan))
    return out


def _reduce(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x = n * pi/2 + (y0 + y1)`` with ``|y0| <= pi/4`` (fdlibm's medium case)."""
    n = np.rint(x * _INV_PIO2)
    r = x - n * _PIO2_1
    w = n * _PIO2_2
    t = r
    r = t - w
    w = n * _PIO2_2T - ((t - r) - w)
    y0 = r - w
    y1 = (r - y0) - w
    return n.astype(np.int64) & 3, y0, y1


def _ksin(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = x * x
    v = z * x
    r = _S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))
    return x - ((z * (0.5 * y - v * r) - y) - v * _S1)


def _kcos(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    z = x * x
    r = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hi = (np.abs(x).view(np.int64) >> 32) & 0x7FFFFFFF
    # qx: x/4 with its low word cleared, or 0.28125 beyond 0.78125 (fdlibm's extra precision)
    qx = ((hi - 0x00200000) << 32).view(np.float64)
    qx = np.where(hi > 0x3FE90000, 0.28125, qx)
    qx = np.where(hi < 0x3FD33333, 0.0, qx)
    hz = 0.5 * z - qx
    a = 1.0 - qx
    return a - (hz - (z * r - x * y))


def sincos(x: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """``(sin(x), cos(x))`` from one argument reduction, for ``|x| <= 8e5``."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    if np.any(np.abs(x[finite]) > _TRIG_MAX):
        msg = f"portable sin/cos take |x| <= {_TRIG_MAX:g}"
        raise ValueError(msg)
    q, y0, y1 = _reduce(np.where(finite, x, 0.0))
    s = _ksin(y0, y1)
    c = _kcos(y0, y1)
    sin_x = np.where(q == 0, s, np.where(q == 1, c, np.where(q == 2, -s, -c)))
    cos_x = np.where(q == 0, c, np.where(q == 1, -s, np.where(q == 2, -c, s)))
    return np.where(finite, sin_x, np.nan), np.where(finite, cos_x, np.nan)


def sin(x: np.ndarray | float) -> np.ndarray:
    """Sine (fdlibm's kernels, three-part reduction by pi/2), for ``|x| <= 8e5``."""
    return sincos(x)[0]


def cos(x: np.ndarray | float) -> np.ndarray:
    """Cosine, as :func:`sin`."""
    return sincos(x)[1]


# fdlibm s_atan.c, e_atan2.c
_ATANHI = np.array(
    [4.63647609000806093515e-01, 7.85398163397448278999e-01, 9.82793723247329054082e-01, 1.57079632679489655800e00]
)
_ATANLO = np.array(
    [2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17, 6.12323399573676603587e-17]
)
_AT = (
    3.33333333333329318027e-01,
    -1.99999999998764832476e-01,
    1.42857142725034663711e-01,
    -1.11111104054623557880e-01,
    9.09088713343650656196e-02,
    -7.69187620504482999495e-02,
    6.66107313738753120669e-02,
    -5.83357013379057348645e-02,
    4.97687799461593236017e-02,
    -3.65315727442169155270e-02,
    1.62858201153657823623e-02,
)
_PI = 3.1415926535897931160e00
_PI_LO = 1.2246467991473531772e-16


def tan(x: np.ndarray | float) -> np.ndarray:
    """Tangent as :func:`sin` over :func:`cos` (a unit or two in the last place)."""
    return sin(x) / cos(x)


def atan(x: np.ndarray | float) -> np.ndarray:
    """Arc tangent (fdlibm ``atan``: four reference angles and one polynomial)."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ident = np.where(ax < 0.6875, 0, np.where(ax < 1.1875, 1, np.where(ax < 2.4375, 2, 3)))
        r = np.where(
            ident == 0,
            (2.0 * ax - 1.0) / (2.0 + ax),
            np.where(
                ident == 1, (ax - 1.0) / (ax + 1.0), np.where(ident == 2, (ax - 1.5) / (1.0 + 1.5 * ax), -1.0 / ax)
            ),
        )
    small = ax < 0.4375
    r = np.where(small, ax, r)
    z = r * r
    w = z * z
    s1 = z * (_AT[0] + w * (_AT[2] + w * (_AT[4] + w * (_AT[6] + w * (_AT[8] + w * _AT[10])))))
    s2 = w * (_AT[1] + w * (_AT[3] + w * (_AT[5] + w * (_AT[7] + w * _AT[9]))))
    near = r - r * (s1 + s2)
    far = _ATANHI[ident] - ((r * (s1 + s2) - _ATANLO[ident]) - r)
    out = np.where(small, near, far)
    out = np.where(np.isinf(ax), _ATANHI[3] + _ATANLO[3], out)
    return np.where(x < 0, -out, np.where(np.isnan(x), np.nan, out))


def atan2(y: np.ndarray | float, x: np.ndarray | float) -> np.ndarray:
    """The angle of ``(x, y)`` in (-pi, pi] (fdlibm ``__ieee754_atan2`` for finite arguments)."""
    y, x = np.broadcast_arrays(np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = atan(np.abs(y / x))
    z = np.where(np.isnan(z), 0.0, z)
    neg_y = np.signbit(y)
    out = np.where(x > 0, z, np.where(neg_y, (z - _PI_LO) - _PI, _PI - (z - _PI_LO)))
    out = np.where((x > 0) & neg_y, -z, out)
    out = np.where(x == 0.0, np.where(y == 0.0, np.where(np.signbit(x), _PI, 0.0), 0.5 * _PI), out)
    out = np.where(neg_y & (x == 0.0), -out, out)
    return np.where(np.isnan(x) | np.isnan(y), np.nan, out)


def expm1(x: np.ndarray | float) -> np.ndarray:
    """``exp(x) - 1``, accurate near 0: ``(u - 1) * x / log(u)`` with ``u = exp(x)`` (Kahan)."""
    x = np.asarray(x, dtype=np.float64)
    u = exp(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (u - 1.0) * (x / log(u))
    out = np.where(u == 1.0, x, out)
    return np.where((u - 1.0 == -1.0) | np.isinf(u), u - 1.0, out)


def sinh(x: np.ndarray | float) -> np.ndarray:
    """Hyperbolic sine (fdlibm's form: ``t = expm1(|x|)``; ``(t + t / (t + 1)) / 2``)."""
    x = np.asarray(x, dtype=np.float64)
    t = expm1(np.abs(x))
    with np.errstate(invalid="ignore", over="ignore"):
        out = 0.5 * np.where(np.abs(x) < 1.0, 2.0 * t - t * t / (t + 1.0), t + t / (t + 1.0))
    return np.where(x < 0, -out, out)


def cosh(x: np.ndarray | float) -> np.ndarray:
    """Hyperbolic cosine, ``(e + 1/e) / 2``."""
    e = exp(np.abs(np.asarray(x, dtype=np.float64)))
    with np.errstate(divide="ignore"):
        return 0.5 * (e + 1.0 / e)


def asinh(x: np.ndarray | float) -> np.ndarray:
    """Inverse hyperbolic sine, ``log1p(|x| + x**2 / (1 + sqrt(1 + x**2)))`` (for ``|x| < 1e150``)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    out = log1p(a + a * a / (1.0 + np.sqrt(1.0 + a * a)))
    return np.where(x < 0, -out, out)


def atanh(x: np.ndarray | float) -> np.ndarray:
    """Inverse hyperbolic tangent, ``log1p(2|x| / (1 - |x|)) / 2``."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * log1p(2.0 * a / (1.0 - a))
    return np.where(x < 0, -out, out)


def ipow(x: np.ndarray | float, k: np.ndarray | int) -> np.ndarray:
    """``x ** k`` for whole ``k >= 0`` by repeated squaring (C's ``pow`` is not portable even here).

    Each squaring doubles the relative error already made: within about ``k`` units in the
    last place (2e-13 at ``k = 1000``), where ``pow`` is within one.
    """
    if isinstance(k, int | np.integer) and isinstance(x, float | np.floating):
        return np.asarray(_ipow_scalar(float(x), int(k)))
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.int64)
    if np.any(k < 0):
        msg = "ipow takes whole powers >= 0"
        raise ValueError(msg)
    out = np.ones(np.broadcast_shapes(x.shape, k.shape))
    base = np.broadcast_to(x, out.shape).copy()
    e = np.broadcast_to(k, out.shape).copy()
    with np.errstate(over="ignore", under="ignore"):
        while np.any(e):
            out = np.where(e & 1, out * base, out)
            base = base * base
            e = e >> 1
    return out


def _ipow_scalar(x: float, k: int) -> float:
    """:func:`ipow` on Python floats: the same multiplications in the same order."""
    if k < 0:
        msg = "ipow takes whole powers >= 0"
        raise ValueError(msg)
    out = 1.0
    base = x
    while k:
        if k & 1:
            out = out * base
        base = base * base
        k >>= 1
    return out


def power(x: np.ndarray | float, y: float) -> np.ndarray:
    """``x ** y`` for ``x >= 0`` as ``exp(y * log(x))`` (a few units in the last place)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(x == 0.0, 0.0 if y > 0 else (1.0 if y == 0 else np.inf), exp(y * log(x)))


def ndtri(p: np.ndarray | float) -> np.ndarray:
    """The standard normal quantile (Wichura's AS 241, relative error about 1e-16)."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    r = 0.180625 - q * q
    out = q * _poly(_A, r) / _poly(_B, r)
    tails = np.flatnonzero(~(np.abs(q) <= 0.425))  # about 15 % of uniform draws (and NaN)
    if len(tails):
        pt, qt = p.ravel()[tails], q.ravel()[tails]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.sqrt(-log(np.where(qt < 0.0, pt, 1.0 - pt)))
            near, far = t - 1.6, t - 5.0
            tail = np.where(t <= 5.0, _poly(_C, near) / _poly(_D, near), _poly(_E, far) / _poly(_F, far))
        tail = np.where(qt < 0.0, -tail, tail)
        tail = np.where(pt == 0.0, -np.inf, np.where(pt == 1.0, np.inf, tail))
        tail = np.where((pt < 0.0) | (pt > 1.0) | np.isnan(pt), np.nan, tail)
        out = np.array(out, copy=True)
        out.ravel()[tails] = tail
    return out


_INV_SQRT_2PI = 0.398942280401432677940
_NDTR_TERMS = 80  # enough for the series below 3 and the continued fraction from 3 (1e-17)


def ndtr(x: np.ndarray | float) -> np.ndarray:
    """The standard normal CDF, to about 1e-16 absolute (relative 1e-13 in the far tails).

    Below ``|x| = 3`` the series ``1/2 + phi(x) sum x^(2n+1) / (2n+1)!!``; from 3 Laplace's
    continued fraction for the upper tail, ``phi(x) / (x + 1/(x + 2/(x + ...)))``, each with a
    fixed number of terms (a machine-independent amount of work and of rounding).
    """
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    phi = _INV_SQRT_2PI * exp(-0.5 * a * a)
    near = np.minimum(a, 3.0)  # the series on |x| < 3 (the rest is discarded below)
    term = near.copy()
    total = near.copy()
    x2 = near * near
    for n in range(1, _NDTR_TERMS):
        term = term * x2 / (2 * n + 1)
        total = total + term
    body = phi * total  # Phi(|x|) - 1/2
    far = np.maximum(a, 3.0)
    frac = far.copy()
    for k in range(_NDTR_TERMS, 0, -1):
        frac = far + k / frac
    upper = phi / frac  # 1 - Phi(|x|)
    half_or_tail = np.where(a < 3.0, 0.5 - body, upper)  # 1 - Phi(|x|) either way
    out = np.where(x < 0.0, half_or_tail, 1.0 - half_or_tail)
    out = np.where(np.isposinf(x), 1.0, np.where(np.isneginf(x), 0.0, out))
    return np.where(np.isnan(x), np.nan, out)


# Draws: each is a transform of uniforms on the open interval (0, 1), whose bits are the
# generator's and so the same everywhere.

_U53 = 2.0**-53


def uniform_open(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Uniforms on (0, 1): 53 random bits and a half, never 0 or 1."""
    return (rng.integers(0, 1 << 53, size=size, dtype=np.int64) + 0.5) * _U53


def normal(rng: np.random.Generator, loc: float, scale: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Normal draws by inversion of portable uniforms."""
    return loc + scale * ndtri(uniform_open(rng, size))


def lognormal(rng: np.random.Generator, mean: float, sigma: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Log-normal draws: ``exp`` of :func:`normal` draws."""
    return exp(normal(rng, mean, sigma, size))


def exponential(rng: np.random.Generator, scale: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Exponential draws of mean ``scale`` by inversion."""
    return -scale * log(uniform_open(rng, size))


# Scalars: the same algorithms on Python floats (CPython rounds each operation on its own), for
# code that draws one value at a time inside a SimPy process.


def log_scalar(x: float) -> float:
    """:func:`log` of one positive float."""
    if not x > 0.0 or x == math.inf:
        return float(log(x))
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m *= 2.0
        e -= 1
    return float(_log_kernel(m - 1.0, float(e)))


def exp_scalar(x: float) -> float:
    """:func:`exp` of one float."""
    if not _EXP_MIN <= x <= _EXP_MAX:
        return float(exp(x))
    k = float(round(x * _INV_LN2))  # round half to even, as np.rint
    return math.ldexp(_exp_kernel(x, k), int(k))


def exponential_scalar(rng: np.random.Generator, scale: float) -> float:
    """One exponential draw of mean ``scale`` (the same bits as :func:`exponential`)."""
    u = (int(rng.integers(0, 1 << 53)) + 0.5) * _U53
    return -scale * log_scalar(u)

"""Portable floating point: accurate against extended precision, and the same bits everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from sim.core import fpmath
from tests.conftest import OTHER_CPU, printed_by


def ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Distance of float64 results from an extended-precision reference, in units of the last place."""
    ref = exact.astype(np.float64)
    spacing = np.spacing(np.abs(ref))
    return np.abs(got.astype(np.longdouble) - exact) / spacing.astype(np.longdouble)


def wide(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """Positive floats spread evenly over the exponents 10**lo .. 10**hi."""
    return 10.0 ** rng.uniform(lo, hi, n)


needs_long = pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="no extended precision here")


@needs_long
def test_log_exp_log1p_are_within_a_unit_or_two_of_extended_precision():
    rng = np.random.default_rng(7)
    x = np.concatenate([wide(rng, 200_000, -300, 300), rng.uniform(0.5, 2.0, 200_000), [1.0, 2.0, 0.5, 5e-324]])
    assert ulps(fpmath.log(x), np.log(x.astype(np.longdouble))).max() <= 1.0
    assert ulps(fpmath.log10(x), np.log10(x.astype(np.longdouble))).max() <= 3.0
    tens = rng.uniform(-300, 300, 100_000)
    # the product x * log(10) is rounded: its error grows with |x|
    assert (ulps(fpmath.exp10(tens), np.longdouble(10) ** tens.astype(np.longdouble)) <= 1.0 + 5.0 * np.abs(tens)).all()
    e = rng.uniform(-745.0, 709.7, 200_000)
    small = rng.uniform(-1.0, 1.0, 200_000)
    for v in (e, small):
        got = fpmath.exp(v)
        normal = got > 1e-300
        assert ulps(got[normal], np.exp(v[normal].astype(np.longdouble))).max() <= 1.0
    u = np.concatenate([-rng.uniform(0, 1, 100_000), wide(rng, 100_000, -20, 5), -wide(rng, 50_000, -20, -1)])
    assert ulps(fpmath.log1p(u), np.log1p(u.astype(np.longdouble))).max() <= 2.0


@needs_long
def test_sin_cos_are_within_a_unit_of_extended_precision_over_their_range():
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.uniform(-8e5, 8e5, 200_000), rng.uniform(-7, 7, 200_000), wide(rng, 50_000, -10, 0)])
    xl = x.astype(np.longdouble)
    for ours, exact in ((fpmath.sin, np.sin), (fpmath.cos, np.cos)):
        got = ours(x)
        ref = exact(xl)
        # near a zero of the function a unit of the result is tiny: measure there against 1e-16
        big = np.abs(ref) > 1e-3
        assert ulps(got[big], ref[big]).max() <= 1.0
        assert np.abs(got - ref).max() < 2e-16 * max(1.0, 1.0)
    with pytest.raises(ValueError, match="800000"):
        fpmath.sin(np.array([1e6]))


@needs_long
def test_the_rest_are_within_a_few_units_of_extended_precision():
    rng = np.random.default_rng(9)
    x = np.concatenate(
        [rng.uniform(-10, 10, 100_000), 10.0 ** rng.uniform(-20, 20, 100_000) * rng.choice([-1, 1], 100_000)]
    )
    xl = x.astype(np.longdouble)
    assert ulps(fpmath.atan(x), np.arctan(xl)).max() <= 1.0
    y, z = rng.uniform(-10, 10, 200_000), rng.uniform(-10, 10, 200_000)
    assert ulps(fpmath.atan2(y, z), np.arctan2(y.astype(np.longdouble), z.astype(np.longdouble))).max() <= 2.0
    s = np.concatenate([rng.uniform(-5, 5, 100_000), 10.0 ** rng.uniform(-15, 0, 100_000)])
    sl = s.astype(np.longdouble)
    for ours, exact, most in ((fpmath.expm1, np.expm1, 3), (fpmath.sinh, np.sinh, 3), (fpmath.cosh, np.cosh, 2)):
        assert ulps(ours(s), exact(sl)).max() <= most, ours.__name__
    assert ulps(fpmath.asinh(x[:100_000]), np.arcsinh(xl[:100_000])).max() <= 2.0
    t = np.concatenate([rng.uniform(-0.999, 0.999, 100_000), 10.0 ** rng.uniform(-15, -1, 10_000)])
    assert ulps(fpmath.atanh(t), np.arctanh(t.astype(np.longdouble))).max() <= 2.0
    a = rng.uniform(-1.5, 1.5, 100_000)
    assert ulps(fpmath.tan(a), np.tan(a.astype(np.longdouble))).max() <= 3.0
    base, k = rng.uniform(0.5, 1.5, 100_000), rng.integers(0, 2000, 100_000)
    exact = base.astype(np.longdouble) ** k
    ok = (np.abs(exact) < 1e300) & (np.abs(exact) > 1e-300)
    assert (ulps(fpmath.ipow(base, k)[ok], exact[ok]) <= np.maximum(k[ok], 1)).all()
    assert fpmath.ipow(3.0, 4) == 81.0
    one_by_one = [fpmath.ipow(float(b), int(j)) for b, j in zip(base[:2000], k[:2000], strict=True)]
    assert np.array_equal(np.array(one_by_one), fpmath.ipow(base[:2000], k[:2000]))  # Python floats, same bits
    with pytest.raises(ValueError, match="whole powers"):
        fpmath.ipow(2.0, -1)


def test_special_values():
    with np.errstate(all="ignore"):
        cases = [
            (fpmath.log(0.0), -np.inf),
            (fpmath.log(-1.0), np.nan),
            (fpmath.log(np.inf), np.inf),
            (fpmath.log(np.nan), np.nan),
            (fpmath.log(1.0), 0.0),
            (fpmath.exp(0.0), 1.0),
            (fpmath.exp(-np.inf), 0.0),
            (fpmath.exp(800.0), np.inf),
            (fpmath.exp(-800.0), 0.0),
            (fpmath.exp(np.nan), np.nan),
            (fpmath.log1p(0.0), 0.0),
            (fpmath.log1p(-1.0), -np.inf),
            (fpmath.log1p(1e-300), 1e-300),
            (fpmath.sin(0.0), 0.0),
            (fpmath.cos(0.0), 1.0),
            (fpmath.sin(np.inf), np.nan),
            (fpmath.power(0.0, 2.5), 0.0),
            (fpmath.power(4.0, 0.5), 2.0),
            (fpmath.ndtri(0.0), -np.inf),
            (fpmath.ndtri(1.0), np.inf),
            (fpmath.ndtri(0.5), 0.0),
            (fpmath.ndtri(1.5), np.nan),
        ]
    for got, want in cases:
        np.testing.assert_array_equal(got, want)


def test_the_normal_quantile_agrees_with_scipy_and_inverts_the_distribution():
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 100_001), 10.0 ** -np.arange(1, 300, 3.7)])
    got = fpmath.ndtri(p)
    ref = special.ndtri(p)
    assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)) < 5e-15
    half = np.arange(1, 2**19) / 2.0**20  # dyadic, so that 1 - p is exact
    assert np.allclose(fpmath.ndtri(1.0 - half), -fpmath.ndtri(half), rtol=2e-16, atol=0)
    assert stats.norm.cdf(fpmath.ndtri(p[:100_001])) == pytest.approx(p[:100_001], rel=1e-12)


def test_the_normal_cdf_agrees_with_scipy_to_a_unit_of_one():
    x = np.concatenate([np.random.default_rng(4).uniform(-40, 40, 500_000), np.linspace(-3.1, 3.1, 10_001)])
    got, ref = fpmath.ndtr(x), special.ndtr(x)
    assert np.abs(got - ref).max() < 1e-15
    tail = ref > 1e-300
    assert np.max(np.abs(got[tail] - ref[tail]) / ref[tail]) < 1e-12
    np.testing.assert_array_equal(fpmath.ndtr(np.array([0.0, -np.inf, np.inf])), [0.5, 0.0, 1.0])
    assert np.isnan(fpmath.ndtr(np.nan))
    # it inverts the quantile
    p = np.linspace(1e-6, 1 - 1e-6, 10_001)
    assert np.abs(fpmath.ndtr(fpmath.ndtri(p)) - p).max() < 1e-15


def test_draws_follow_their_distributions():
    rng = np.random.default_rng(3)
    u = fpmath.uniform_open(rng, 1_000_000)
    assert u.min() > 0.0
    assert u.max() < 1.0
    assert stats.kstest(fpmath.normal(rng, 2.0, 0.5, 50_000), "norm", args=(2.0, 0.5)).pvalue > 1e-3
    assert stats.kstest(fpmath.exponential(rng, 30.0, 50_000), "expon", args=(0, 30.0)).pvalue > 1e-3
    assert stats.kstest(fpmath.lognormal(rng, 0.0, 0.5, 50_000), "lognorm", args=(0.5,)).pvalue > 1e-3
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    many = fpmath.exponential(a, 4.0, 50)
    one_by_one = np.array([fpmath.exponential_scalar(b, 4.0) for _ in range(50)])
    assert np.array_equal(many, one_by_one)
    x = rng.uniform(-700, 700, 2000)
    assert np.array_equal(fpmath.exp(x), np.array([fpmath.exp_scalar(v) for v in x]))
    y = wide(rng, 2000, -300, 300)
    assert np.array_equal(fpmath.log(y), np.array([fpmath.log_scalar(v) for v in y]))


PROBE = """
import hashlib, numpy as np
from sim.core import fpmath
rng = np.random.default_rng(5)
x = rng.uniform(-700, 700, 300_000); p = rng.uniform(0, 1, 300_000); t = rng.uniform(-8e5, 8e5, 300_000)
parts = [fpmath.exp(x), fpmath.log(p), fpmath.log1p(-p), fpmath.sin(t), fpmath.cos(t), fpmath.ndtri(p),
         fpmath.power(p, 0.37), fpmath.normal(rng, 1.3, 0.2, 1000), fpmath.lognormal(rng, 0.0, 0.5, 1000),
         fpmath.atan2(x, t), fpmath.sinh(p), fpmath.cosh(p), fpmath.asinh(t), fpmath.atanh(p - 0.5), fpmath.expm1(-p),
         fpmath.tan(p), fpmath.ipow(p + 0.5, 777), fpmath.ndtr(x / 50.0)]
print(hashlib.sha256(b"".join(v.tobytes() for v in parts)).hexdigest())
"""


def test_the_same_bits_on_another_processor():
    here = printed_by(PROBE)
    assert len(here) == 64
    assert printed_by(PROBE, OTHER_CPU) == here

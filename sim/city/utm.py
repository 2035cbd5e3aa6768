"""Universal Transverse Mercator on WGS 84, computed the same on every machine.

Every city is projected to its UTM zone (``EPSG:326zz`` north, ``EPSG:327zz`` south). PROJ
does that with the C library's trigonometry, whose last bits differ between processors, so a
city's coordinates, and the longitudes and latitudes written back for GIS tools, would differ
in their last bits from one machine to another. Here the projection is Krüger's series to the
sixth order in the third flattening, as Karney (2011, "Transverse Mercator with an accuracy of
a few nanometers", J. Geodesy 85) gives it, computed with :mod:`sim.core.fpmath`. Inside a zone
it agrees with PROJ to a few nanometres (``tests/city/test_utm.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from sim.core import fpmath

_A = 6378137.0
_F = 1.0 / 298.257223563
_N = _F / (2.0 - _F)
_E2 = _F * (2.0 - _F)
_E = _E2**0.5  # Python's pow: a constant, computed once; a square root is exact everywhere
_K0 = 0.9996
_FALSE_EASTING = 500000.0
_FALSE_NORTHING_SOUTH = 10000000.0
_DEG = 3.14159265358979311600e00 / 180.0

_n = _N
_RECT = _A / (1.0 + _n) * (1.0 + _n**2 / 4.0 + _n**4 / 64.0 + _n**6 / 256.0)
_ALPHA = (
    _n / 2 - 2 * _n**2 / 3 + 5 * _n**3 / 16 + 41 * _n**4 / 180 - 127 * _n**5 / 288 + 7891 * _n**6 / 37800,
    13 * _n**2 / 48 - 3 * _n**3 / 5 + 557 * _n**4 / 1440 + 281 * _n**5 / 630 - 1983433 * _n**6 / 1935360,
    61 * _n**3 / 240 - 103 * _n**4 / 140 + 15061 * _n**5 / 26880 + 167603 * _n**6 / 181440,
    49561 * _n**4 / 161280 - 179 * _n**5 / 168 + 6601661 * _n**6 / 7257600,
    34729 * _n**5 / 80640 - 3418889 * _n**6 / 1995840,
    212378941 * _n**6 / 319334400,
)
_BETA = (
    _n / 2 - 2 * _n**2 / 3 + 37 * _n**3 / 96 - _n**4 / 360 - 81 * _n**5 / 512 + 96199 * _n**6 / 604800,
    _n**2 / 48 + _n**3 / 15 - 437 * _n**4 / 1440 + 46 * _n**5 / 105 - 1118711 * _n**6 / 3870720,
    17 * _n**3 / 480 - 37 * _n**4 / 840 - 209 * _n**5 / 4480 + 5569 * _n**6 / 90720,
    4397 * _n**4 / 161280 - 11 * _n**5 / 504 - 830251 * _n**6 / 7257600,
    4583 * _n**5 / 161280 - 108847 * _n**6 / 3991680,
    20648693 * _n**6 / 638668800,
)
_NEWTON_STEPS = 2  # Karney: two reach double precision; a fixed count keeps every machine alike

_EPSG = re.compile(r"^(?:EPSG:)?(32[67])(\d\d)$", re.IGNORECASE)


def _conformal(tau: np.ndarray) -> np.ndarray:
    """The tangent of the conformal latitude from that of the geographic latitude (Karney eq. 7-9).

    ``sigma = sinh(e atanh(e sin(phi)))`` as ``(q - 1/q) / 2`` with ``q = exp(e atanh(...))``.
    """
    root = np.sqrt(1.0 + tau * tau)
    q = fpmath.exp(_E * fpmath.atanh(_E * tau / root))
    sigma = 0.5 * (q - 1.0 / q)
    return tau * np.sqrt(1.0 + sigma * sigma) - sigma * root


def _clenshaw(coef: tuple[float, ...], xi: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sum_j coef_j sin(2j (xi + i eta))`` as (real, imaginary), by Clenshaw's recurrence.

    Real: ``sum c_j sin(2j xi) cosh(2j eta)``; imaginary: ``sum c_j cos(2j xi) sinh(2j eta)``.
    One sine, cosine and exponential for the six terms, in real arithmetic (no complex loops).
    """
    s2, c2 = fpmath.sincos(2.0 * xi)
    e = fpmath.exp(2.0 * eta)
    sh = 0.5 * (e - 1.0 / e)
    ch = 0.5 * (e + 1.0 / e)
    ar, ai = 2.0 * c2 * ch, -2.0 * s2 * sh  # 2 cos(2 zeta)
    yr1 = yi1 = yr2 = yi2 = np.zeros_like(xi)
    for c in reversed(coef):
        yr = ar * yr1 - ai * yi1 - yr2 + c
        yi = ar * yi1 + ai * yr1 - yi2
        yr2, yi2, yr1, yi1 = yr1, yi1, yr, yi
    sr, si = s2 * ch, c2 * sh  # sin(2 zeta)
    return yr1 * sr - yi1 * si, yr1 * si + yi1 * sr


def _wrap180(deg: np.ndarray) -> np.ndarray:
    """Longitudes (or their differences) brought into [-180, 180] by a whole turn."""
    return np.where(deg > 180.0, deg - 360.0, np.where(deg < -180.0, deg + 360.0, deg))


@dataclass(frozen=True)
class Utm:
    """One UTM zone: ``forward`` (lon/lat to metres) and ``inverse``, on arrays ``(n, 2)``."""

    zone: int
    south: bool

    @classmethod
    def of(cls, crs: object) -> Utm | None:
        """The zone of a CRS given as ``EPSG:326zz``/``EPSG:327zz`` (text or pyproj CRS), else None."""
        text = str(crs)
        to_epsg = getattr(crs, "to_epsg", None)
        if to_epsg is not None:
            code = to_epsg()
            text = str(code) if code is not None else ""
        m = _EPSG.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 60:
            return None
        return cls(int(m.group(2)), m.group(1) == "327")

    @property
    def central_meridian(self) -> float:
        """The zone's central meridian in degrees."""
        return 6.0 * self.zone - 183.0

    def forward(self, lonlat: np.ndarray) -> np.ndarray:
        """Longitude/latitude in degrees ``(n, 2)`` as metric easting/northing ``(n, 2)``."""
        ll = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
        dlon = ll[:, 0] - self.central_meridian
        lam = _wrap180(dlon) * _DEG  # across the antimeridian
        phi = ll[:, 1] * _DEG
        sin_phi, cos_phi = fpmath.sincos(phi)
        taup = _conformal(sin_phi / cos_phi)
        sin_lam, cos_lam = fpmath.sincos(lam)
        xip = fpmath.atan2(taup, cos_lam)
        etap = fpmath.asinh(sin_lam / np.sqrt(taup * taup + cos_lam * cos_lam))
        dxi, deta = _clenshaw(_ALPHA, xip, etap)
        x = _FALSE_EASTING + _K0 * _RECT * (etap + deta)
        y = _K0 * _RECT * (xip + dxi) + (_FALSE_NORTHING_SOUTH if self.south else 0.0)
        return np.column_stack([x, y])

    def inverse(self, xy: np.ndarray) -> np.ndarray:
        """Metric easting/northing ``(n, 2)`` as longitude/latitude in degrees ``(n, 2)``."""
        p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        north = p[:, 1] - (_FALSE_NORTHING_SOUTH if self.south else 0.0)
        xi = north / (_K0 * _RECT)
        eta = (p[:, 0] - _FALSE_EASTING) / (_K0 * _RECT)
        dxi, deta = _clenshaw(_BETA, xi, eta)
        xip = xi - dxi
        etap = eta - deta
        e = fpmath.exp(etap)
        s = 0.5 * (e - 1.0 / e)  # sinh(eta')
        sin_xi, cos_xi = fpmath.sincos(xip)
        taup = sin_xi / np.sqrt(s * s + cos_xi * cos_xi)
        lam = fpmath.atan2(s, cos_xi)
        tau = taup.copy()
        for _ in range(_NEWTON_STEPS):
            tau_i = _conformal(tau)
            step = (
                (taup - tau_i)
                / np.sqrt(1.0 + tau_i * tau_i)
                * (1.0 + (1.0 - _E2) * tau * tau)
                / ((1.0 - _E2) * np.sqrt(1.0 + tau * tau))
            )
            tau = tau + step
        lat = fpmath.atan(tau) / _DEG
        lon = self.central_meridian + lam / _DEG
        return np.column_stack([_wrap180(lon), lat])  # zones 1 and 60 reach across the antimeridian

"""A flood's depth bands traced from the wet rows and columns only are those traced from the whole grid.

``polygonize`` traces the window of the grid that holds wet cells and places the corners itself;
``polygonize_whole_grid`` (what it replaced) traces every cell with the grid's transform. The
footprints must be the same geometry, bit for bit, wherever the grid lies and whatever its cell.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import ndimage

from sim.city.terrain import Terrain
from sim.hazards.water import polygonize


def polygonize_whole_grid(mask: np.ndarray, terrain: Terrain):
    """The footprint as it was traced before: every cell, with the grid's transform, a Python polygon per part."""
    from rasterio import features
    from rasterio.transform import Affine
    from shapely.geometry import shape

    transform = Affine(terrain.cell_m, 0.0, terrain.x0, 0.0, terrain.cell_m, terrain.y0)
    parts = [shape(g) for g, v in features.shapes(mask.astype(np.uint8), mask=mask, transform=transform) if v == 1]
    return shapely.simplify(shapely.union_all(parts), terrain.cell_m / 2.0)


GRIDS = [  # corner and cell: round numbers, a UTM-like corner, cells no binary fraction holds
    (0.0, 0.0, 1.0),
    (426_913.37, 6_702_218.91, 30.0),
    (-1234.567, 98_765.4321, 7.3),
    (500_000.1, 9_999_000.7, 0.1),
]


def masks(rng: np.random.Generator, shape: tuple[int, int]) -> list[np.ndarray]:
    """Blobs with holes and islands, single cells, the grid's edges and corners, all and none wet."""
    out = []
    for fill in (0.002, 0.05, 0.3, 0.6):
        noise = ndimage.gaussian_filter(rng.random(shape), 2.0)
        out.append(noise > np.quantile(noise, 1.0 - fill))
    out.append(rng.random(shape) < 0.01)  # scattered single cells
    edge = np.zeros(shape, dtype=bool)
    edge[0, :] = edge[:, -1] = True  # along two edges, meeting at a corner
    out.append(edge)
    corner = np.zeros(shape, dtype=bool)
    corner[-3:, :4] = True
    out.append(corner)
    out.append(np.ones(shape, dtype=bool))
    out.append(np.zeros(shape, dtype=bool))
    return out


@pytest.mark.parametrize(("x0", "y0", "cell"), GRIDS)
def test_the_wet_window_gives_the_whole_grids_footprint_bit_for_bit(x0, y0, cell):
    rng = np.random.default_rng(int(cell * 10))
    for shape in ((1, 1), (7, 11), (120, 90)):
        terrain = Terrain(x0=x0, y0=y0, cell_m=cell, height=np.zeros(shape), source="derived")
        for mask in masks(rng, shape):
            got = polygonize(mask, terrain)
            expect = polygonize_whole_grid(mask, terrain)
            assert shapely.to_wkb(got) == shapely.to_wkb(expect), (shape, int(mask.sum()))


def test_the_footprint_covers_the_wet_cells():
    terrain = Terrain(x0=1000.0, y0=2000.0, cell_m=10.0, height=np.zeros((40, 50)), source="derived")
    mask = np.zeros((40, 50), dtype=bool)
    mask[5:15, 20:30] = True  # a 100 m square with a 20 m hole
    mask[9:11, 24:26] = False
    geom = polygonize(mask, terrain)
    assert geom.area == pytest.approx((100 - 4) * 100.0)
    assert geom.bounds == (1200.0, 2050.0, 1300.0, 2150.0)

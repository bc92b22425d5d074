import numpy as np
import pytest
from rasterio.windows import Window

from core.blend import RowBlender
from core.tiling import blend_weights, tile_grid


@pytest.mark.parametrize("height,width,size,overlap", [(800, 800, 256, 32), (300, 1000, 128, 16), (50, 70, 256, 32)])
def test_tiles_cover_the_grid_exactly_once_or_more(height, width, size, overlap):
    tiles = tile_grid(height, width, size, overlap)
    hits = np.zeros((height, width), int)
    for t in tiles:
        w = t.window
        assert 0 <= w.row_off and w.row_off + w.height <= height and 0 <= w.col_off and w.col_off + w.width <= width
        hits[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] += 1
    assert hits.min() >= 1
    assert len({(t.window.height, t.window.width) for t in tiles}) == 1


def test_raster_smaller_than_a_tile_is_one_tile():
    (tile,) = tile_grid(50, 70, 256, 32)
    assert (tile.window.height, tile.window.width) == (50, 70)


def test_blend_weights_are_positive_and_flat_inside():
    w = blend_weights(64, 64, 16)
    assert w.min() > 0 and w[20:44, 20:44].min() == 1.0 and w[0, 0] < w[8, 8]


def _blend(height, width, size, overlap, value_of):
    rows = {}
    held = []
    blender = RowBlender(height, width, 1, lambda r, v, c: rows.update({r + i: (v[0, i], c[i]) for i in range(v.shape[1])}))
    for tile in tile_grid(height, width, size, overlap):
        w = tile.window
        blender.release_until(int(w.row_off))
        blender.add(w, value_of(w), blend_weights(w.height, w.width, overlap))
        held.append(blender.weight.shape[0])
    blender.close()
    return rows, max(held)


def test_blending_constant_tiles_gives_the_constant_without_seams():
    rows, _ = _blend(300, 420, 128, 32, lambda w: np.full((1, w.height, w.width), 0.7))
    image = np.stack([rows[r][0] for r in range(300)])
    assert sorted(rows) == list(range(300))
    np.testing.assert_allclose(image, 0.7, rtol=1e-6)


def test_blender_holds_only_a_strip_about_one_tile_high():
    _, held = _blend(2000, 300, 128, 32, lambda w: np.zeros((1, w.height, w.width)))
    assert held <= 128 + 96


def test_zero_weight_pixels_are_reported_uncovered():
    blender_rows = {}
    blender = RowBlender(10, 10, 1, lambda r, v, c: blender_rows.update({"covered": c}))
    weights = np.ones((10, 10))
    weights[:, :3] = 0
    blender.add(Window(0, 0, 10, 10), np.ones((1, 10, 10)), weights)
    blender.close()
    assert not blender_rows["covered"][:, :3].any() and blender_rows["covered"][:, 3:].all()

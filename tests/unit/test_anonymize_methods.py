"""Anonymisation methods on synthetic images (no weights): geometry, strength, contracts."""

import numpy as np
import pytest

from mien.anonymize import METHODS, Blur, EllipseMask, Fill, Margin, Pixelate, get_method, head_boxes
from mien.errors import InputError, ShapeError, UnknownModelError
from mien.types import Faces


def faces_at(*boxes):
    return Faces(np.array(boxes, np.float32), np.ones(len(boxes), np.float32))


def checkerboard(h, w, period):
    ys, xs = np.mgrid[0:h, 0:w]
    grey = (((ys // period) + (xs // period)) % 2 * 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def test_head_boxes_grow_by_the_margins():
    head = head_boxes(np.array([[100, 100, 200, 300]]), Margin(side=0.2, top=0.35, bottom=0.15))
    assert head.tolist() == [[80.0, 30.0, 220.0, 330.0]]


def test_negative_margin_is_refused():
    with pytest.raises(InputError):
        Margin(side=-0.1)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_method_changes_the_head_and_nothing_far_outside(name):
    image = checkerboard(200, 300, 3)
    faces = faces_at([120, 60, 180, 140])
    method = get_method(name)
    out = method.apply(image, faces)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert np.array_equal(image, checkerboard(200, 300, 3)), "the input must not be modified"
    face = (slice(60, 140), slice(120, 180))
    assert np.abs(out[face].astype(int) - image[face]).mean() > 60, "the face box must be hidden"
    changed = np.any(out != image, axis=2)
    mask = method.mask(faces, 200, 300)
    assert not np.any(changed & (mask == 0)), "apply() may only touch pixels that mask() reports"
    assert mask[face].min() == 1.0, "every pixel of the face box is fully replaced"
    assert not changed[:, :60].any() and not changed[:, 250:].any()


def test_strength_scales_with_face_size():
    # The same face-like pattern at 4x the size must come out with the same (absence of) detail.
    small = checkerboard(64, 64, 4)
    large = np.kron(small[:, :, 0], np.ones((4, 4), np.uint8))[:, :, None].repeat(3, axis=2)
    for method in (Blur(), Pixelate()):
        out_s = method.apply(small, faces_at([16, 16, 48, 48]))
        out_l = method.apply(large, faces_at([64, 64, 192, 192]))
        import cv2

        shrunk = cv2.resize(out_l, (64, 64), interpolation=cv2.INTER_AREA)
        diff = np.abs(shrunk.astype(int) - out_s.astype(int))[16:48, 16:48].mean()
        assert diff < 8, f"{method.name}: small and large faces differ by {diff:.1f} grey levels"


def test_blur_leaves_no_fine_detail():
    image = checkerboard(400, 400, 6)  # 6-px squares: detail far finer than the head / 10 cells
    out = Blur().apply(image, faces_at([100, 100, 300, 300]))
    inner = out[110:290, 110:290].astype(float)
    assert inner.std() < 12, "a fine pattern must average out to flat grey"


def test_pixelate_makes_blocks_of_a_tenth_of_the_head_or_more():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    method = Pixelate(blocks=8)
    faces = faces_at([100, 100, 180, 200])
    out = method.apply(image, faces)
    x1, y1, x2, y2 = (int(round(v)) for v in method.regions(faces)[0])
    region = out[max(y1, 0):y2, max(x1, 0):x2].reshape(-1, 3)
    assert len(np.unique(region, axis=0)) <= 8 * 8 + 16


def test_fill_colour_and_validation():
    out = Fill(color=(10, 200, 30)).apply(np.zeros((100, 100, 3), np.uint8), faces_at([40, 40, 60, 60]))
    assert out[50, 50].tolist() == [10, 200, 30]
    with pytest.raises(InputError):
        Fill(color=(300, 0, 0))


@pytest.mark.parametrize("box", [[100, 100, 160, 180], [100, 100, 200, 130], [100, 100, 120, 190]])
def test_ellipse_covers_face_box_corners_and_spares_head_box_corners(box):
    method = EllipseMask()
    mask = method.mask(faces_at(box), 400, 400)
    x1, y1, x2, y2 = box
    assert mask[y1:y2, x1:x2].min() == 1.0, "the whole face box is inside the opaque ellipse"
    hx1, hy1, hx2, hy2 = (int(v) for v in method.regions(faces_at(box))[0])
    assert mask[max(hy1, 0), max(hx1, 0)] == 0.0, "the head box's corner is outside the ellipse"


def test_ellipse_wraps_any_method_but_not_itself():
    out = EllipseMask(inner=Fill()).apply(np.full((100, 100, 3), 255, np.uint8), faces_at([40, 40, 60, 60]))
    assert out[50, 50].tolist() == [0, 0, 0] and out[0, 0].tolist() == [255, 255, 255]
    with pytest.raises(InputError):
        EllipseMask(inner=EllipseMask())


def test_faces_partly_outside_the_frame_and_empty_faces():
    image = checkerboard(100, 100, 2)
    out = Blur().apply(image, faces_at([-30, -30, 20, 20], [90, 90, 150, 150], [200, 200, 220, 220]))
    assert not np.array_equal(out[:10, :10], image[:10, :10])
    assert np.array_equal(Blur().apply(image, Faces.empty()), image)


def test_get_method_by_name_and_errors():
    assert isinstance(get_method("pixelate", blocks=6), Pixelate)
    same = Blur()
    assert get_method(same) is same
    with pytest.raises(UnknownModelError, match="blur"):
        get_method("swirl")
    with pytest.raises(ShapeError):
        Blur().apply(np.zeros((10, 10), np.uint8), Faces.empty())

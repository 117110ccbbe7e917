"""Glasses seated on a face: frames drawn by mien or from a user's transparent PNG.

A frame lives in a front-view design plane measured in centimetres (x to the image's
right, y down), its lens centres at (-h, 0) and (h, 0), h half the canonical face's
distance between the eyes. It is put on a face by the affine map that sends the lens
centres onto the pupils (the iris model's centres) and the design's vertical onto the
head's own vertical (from the fitted pose), so the frame turns, tilts and shrinks with the
head; the bridge then sits on the nose bridge. The temples run from the hinges back to the
ears (the canonical face's sides, moved back, projected with the head's pose); where they
pass behind the face (inside the face oval) they are hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from ..errors import ImageError, UnknownModelError
from ..landmarks.pose import project
from ..landmarks.regions import EYE_LEFT, EYE_RIGHT, FACE_OVAL, polygon_mask
from .colour import Colour, parse_colour
from .face import FaceGeometry

PPC = 40  # design pixels per centimetre
DESIGN_W, DESIGN_H = 16.0, 7.0  # design canvas, cm
ORIGIN_Y = 3.0  # the lens centres' height in the canvas, cm from its top
RIM_CM, TEMPLE_CM = 0.28, 0.3
LENS_ALPHA = 0.12  # a faint tint shows there is glass
EAR_BACK_CM = 7.0  # the ears sit this far behind the face's sides


@lru_cache(maxsize=1)
def half_iod_cm() -> float:
    from ..landmarks.geometry import canonical_face

    v = canonical_face().vertices[:, :2].astype(np.float64)
    return float(np.linalg.norm(v[list(EYE_RIGHT)].mean(0) - v[list(EYE_LEFT)].mean(0)) / 2)


def _lens_outline(style: str, h: float) -> np.ndarray:
    """The left lens's outline (K, 2) in cm, centred on (-h, 0); the right one is its mirror."""
    t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    c, s = np.cos(t), np.sin(t)  # s > 0: below the centre (y down)
    if style == "round":
        x, y = 2.25 * c, 2.25 * s
    elif style == "rectangle":
        p = 6.0  # a superellipse: a rectangle with rounded corners
        x = 2.55 * np.sign(c) * np.abs(c) ** (2 / p)
        y = 1.75 * np.sign(s) * np.abs(s) ** (2 / p)
    elif style == "aviator":
        x = 2.6 * c
        y = np.where(s > 0, 2.5 * s, 1.6 * s) - 0.2
        x = x - 0.45 * np.clip(s, 0, None) * (c > 0)  # the drop leans towards the nose at the bottom
    elif style == "cat-eye":
        x = 2.6 * c
        y = 1.75 * s - 0.7 * np.clip(-c, 0, None) * np.clip(-s, 0, None) ** 0.5  # outer top corner raised
    else:
        raise UnknownModelError(style, list(GLASSES_STYLES), kind="glasses style")
    return np.stack([x - h, y], 1)


GLASSES_STYLES = ("round", "rectangle", "aviator", "cat-eye")


@dataclass(frozen=True, eq=False)
class Frame:
    """A front-view frame ready to place: RGBA pixels, the design-pixel -> cm map, lens interiors, colour."""

    rgba: np.ndarray  # (H, W, 4) uint8
    to_cm: np.ndarray  # (2, 3): design pixels -> cm
    lens_mask: np.ndarray  # (H, W) uint8, 255 inside the lenses (for measuring where they land)
    colour: tuple[int, int, int]
    hinge_cm: np.ndarray  # (2, 2): the hinges, image-left first
    name: str


def _design_matrix() -> np.ndarray:
    """cm -> design pixels."""
    return np.array([[PPC, 0, DESIGN_W / 2 * PPC], [0, PPC, ORIGIN_Y * PPC]], np.float64)


@lru_cache(maxsize=32)
def drawn_frame(style: str = "rectangle", colour: Colour | None = None) -> Frame:
    """One of mien's frames (``GLASSES_STYLES``), drawn at ``PPC`` pixels per centimetre."""
    colour = colour or parse_colour("black")
    h = half_iod_cm()
    left = _lens_outline(style, h)
    right = left * [-1, 1]
    w, hh = int(DESIGN_W * PPC), int(DESIGN_H * PPC)
    to_px = _design_matrix()

    def px(points):
        return np.round((points @ to_px[:, :2].T + to_px[:, 2]) * 16).astype(np.int32)

    rgba = np.zeros((hh, w, 4), np.uint8)
    lens = np.zeros((hh, w), np.uint8)
    rgb = tuple(int(v) for v in colour.rgb)
    for outline in (left, right):
        cv2.fillPoly(lens, [px(outline)], 255, cv2.LINE_AA, shift=4)
    rgba[..., :3] = rgb
    rgba[..., 3] = (lens.astype(np.float32) * LENS_ALPHA).astype(np.uint8)
    rim = np.zeros((hh, w), np.uint8)
    thick = max(1, int(round(RIM_CM * PPC)))
    for outline in (left, right):
        cv2.polylines(rim, [px(outline)], True, 255, thick, cv2.LINE_AA, shift=4)
    # bridge: an arc between the lenses' inner tops; end pieces out to the hinges
    inner_l = left[np.argmax(left[:, 0] - 0.6 * np.abs(left[:, 1] + 0.6))]
    bridge = np.array([inner_l, [0, inner_l[1] - 0.35], inner_l * [-1, 1]])
    t = np.linspace(0, 1, 20)[:, None]
    arc = (1 - t) ** 2 * bridge[0] + 2 * t * (1 - t) * bridge[1] + t ** 2 * bridge[2]
    cv2.polylines(rim, [px(arc)], False, 255, thick, cv2.LINE_AA, shift=4)
    outer = left[np.argmin(left[:, 0] + 0.3 * np.abs(left[:, 1] + 0.5))]
    hinge = np.array([outer[0] - 0.45, outer[1] - 0.2])
    for sign in (1, -1):
        cv2.line(rim, tuple(px(np.array([outer * [sign, 1]]))[0]), tuple(px(np.array([hinge * [sign, 1]]))[0]),
                 255, thick, cv2.LINE_AA, shift=4)
    rgba[..., 3] = np.maximum(rgba[..., 3], rim)
    return Frame(rgba, cv2.invertAffineTransform(to_px), lens, rgb, np.array([hinge, hinge * [-1, 1]]),
                 f"{style}:{colour.hex}")


def png_frame(rgba: np.ndarray, name: str = "frame.png") -> Frame:
    """A user's front-view frame: an RGBA image whose lenses are (semi-)transparent.

    The lens centres are the centroids of the transparent regions the frame encloses (not
    reachable from the image's border); without two such regions, the quarter points of the
    frame's width at the middle of its height.
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ImageError(f"{name}: a glasses frame must be a PNG with transparency (RGBA); this one has no alpha channel")
    alpha = rgba[..., 3]
    if (alpha < 128).mean() < 0.05:
        raise ImageError(f"{name}: a glasses frame must be transparent around and inside the frame; "
                         f"this PNG is {100 * (alpha >= 128).mean():.0f}% opaque")
    opaque = alpha >= 200
    ys, xs = np.nonzero(opaque)
    if len(ys) < 50:
        raise ImageError(f"{name}: the frame PNG is almost entirely transparent")
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    clear = (~opaque).astype(np.uint8)
    count, labels, stats, cents = cv2.connectedComponentsWithStats(clear, connectivity=4)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    holes = [i for i in range(1, count) if i not in border and stats[i, cv2.CC_STAT_AREA] > 0.002 * alpha.size]
    holes = sorted(holes, key=lambda i: -stats[i, cv2.CC_STAT_AREA])[:2]
    if len(holes) == 2:
        centres = np.array(sorted([cents[i] for i in holes], key=lambda c: c[0]))
        lens = np.isin(labels, holes).astype(np.uint8) * 255
    else:
        cy = (y0 + y1) / 2
        centres = np.array([[x0 + 0.25 * (x1 - x0), cy], [x0 + 0.75 * (x1 - x0), cy]])
        lens = np.zeros(alpha.shape, np.uint8)
        for c in centres:
            cv2.circle(lens, (int(c[0]), int(c[1])), max(2, int(0.15 * (x1 - x0))), 255, -1)
    h = half_iod_cm()
    cm_per_px = 2 * h / max(1.0, float(centres[1, 0] - centres[0, 0]))
    mid = centres.mean(0)
    to_cm = np.array([[cm_per_px, 0, -cm_per_px * mid[0]], [0, cm_per_px, -cm_per_px * mid[1]]])
    colour = tuple(int(v) for v in np.median(rgba[opaque][:, :3], axis=0))
    hinge_px = np.array([[x0, mid[1] - 0.15 * (y1 - y0)], [x1, mid[1] - 0.15 * (y1 - y0)]], np.float64)
    hinge = hinge_px @ to_cm[:, :2].T + to_cm[:, 2]
    rgb = np.ascontiguousarray(rgba[..., :4]).astype(np.uint8)
    return Frame(rgb, to_cm, lens, colour, hinge, name)


def placement(face: FaceGeometry) -> np.ndarray:
    """(2, 3) affine from design cm to image pixels for this face."""
    h = half_iod_cm()
    left, right = face.eye_centres
    u = (right - left) / (2 * h)
    rot, scale = face.pose.rotation, face.pose.scale
    v = scale * np.array([-rot[0, 1], rot[1, 1]])  # the canonical face's downward direction in the image
    return np.array([[u[0], v[0], (left[0] + right[0]) / 2], [u[1], v[1], (left[1] + right[1]) / 2]])


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The affine a after b."""
    return a[:, :2] @ np.vstack([b, [0, 0, 1]])[:2] + np.array([[0, 0, a[0, 2]], [0, 0, a[1, 2]]])


@dataclass(frozen=True, eq=False)
class PlacedGlasses:
    image: np.ndarray
    lens_centres: np.ndarray  # (2, 2) where the lens centres landed (image-left first)
    frame: str

    def to_dict(self) -> dict[str, Any]:
        return {"frame": self.frame, "lens_centres": np.round(self.lens_centres, 1).tolist()}


def put_on(image: np.ndarray, face: FaceGeometry, frame: Frame) -> PlacedGlasses:
    """``image`` with ``frame`` on ``face``: temples first (hidden behind the face), then the front.

    Only the region the glasses cover is touched (a few milliseconds on a 640x480 frame).
    """
    from ..landmarks.geometry import canonical_face

    h, w = image.shape[:2]
    to_img = placement(face)
    m = _compose(to_img, frame.to_cm)
    canon = canonical_face().vertices.astype(np.float64)
    eye_y = canon[list(EYE_LEFT) + list(EYE_RIGHT), 1].mean()
    ears = np.array([[canon[234, 0], eye_y, canon[234, 2] - EAR_BACK_CM], [canon[454, 0], eye_y, canon[454, 2] - EAR_BACK_CM]])
    ears_img = project(face.pose, ears)
    hinges = frame.hinge_cm @ to_img[:, :2].T + to_img[:, 2]
    fh, fw = frame.rgba.shape[:2]
    corners = np.array([[0, 0], [fw, 0], [0, fh], [fw, fh]], np.float64) @ m[:, :2].T + m[:, 2]
    thick = max(1, int(round(TEMPLE_CM * np.linalg.norm(to_img[:, 0]))))
    pts = np.concatenate([corners, ears_img, hinges])
    x0, y0 = np.maximum(np.floor(pts.min(0)) - thick - 2, 0).astype(int)
    x1, y1 = np.minimum(np.ceil(pts.max(0)) + thick + 2, [w, h]).astype(int)
    out_image = image.copy()
    if x1 <= x0 or y1 <= y0:
        return PlacedGlasses(out_image, np.full((2, 2), np.nan), frame.name)
    rh, rw = y1 - y0, x1 - x0
    shift = np.array([x0, y0], np.float64)
    roi = image[y0:y1, x0:x1].astype(np.float32)
    # temples: hinge (front plane) to the ear (the face's sides moved back), hidden inside the face oval
    temples = np.zeros((rh, rw), np.uint8)
    for hinge, ear in zip(hinges - shift, ears_img - shift):
        cv2.line(temples, tuple(np.round(hinge * 16).astype(int)), tuple(np.round(ear * 16).astype(int)), 255, thick,
                 cv2.LINE_AA, shift=4)
    temples[polygon_mask((rh, rw), face.xy - shift, FACE_OVAL) > 0] = 0
    a = temples.astype(np.float32)[..., None] / 255.0
    roi = roi * (1 - a) + np.array(frame.colour, np.float32) * a
    # the front
    m_roi = m.copy()
    m_roi[:, 2] -= shift
    warped = cv2.warpAffine(frame.rgba, m_roi, (rw, rh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=0)
    a = warped[..., 3:4].astype(np.float32) / 255.0
    roi = roi * (1 - a) + warped[..., :3].astype(np.float32) * a
    out_image[y0:y1, x0:x1] = np.clip(roi + 0.5, 0, 255).astype(np.uint8)
    lens = cv2.warpAffine(frame.lens_mask, m_roi, (rw, rh), flags=cv2.INTER_NEAREST)
    return PlacedGlasses(out_image, _lens_centres(lens) + shift, frame.name)


def _lens_centres(lens: np.ndarray) -> np.ndarray:
    """Centroids of the two lens regions as rendered (image-left first); NaN where one is off the image."""
    count, _, stats, cents = cv2.connectedComponentsWithStats((lens > 0).astype(np.uint8), connectivity=8)
    found = sorted(range(1, count), key=lambda i: -stats[i, cv2.CC_STAT_AREA])[:2]
    if len(found) < 2:
        return np.full((2, 2), np.nan)
    return np.array(sorted([cents[i] for i in found], key=lambda c: c[0]))

"""Hair colour: a hair mask around a face, recoloured in CIELAB.

Two ways to find the hair, measured against each other in benchmarks/edit.py (``--part hair``):

* ``"segmentation"`` (the default): MediaPipe's person segmentation (``selfie``, from the model
  store) on the head region, minus what the face mesh says is face (the oval below the brows,
  and forehead pixels coloured like the cheeks) and minus what is coloured like skin or unlike
  the hair below the jaw (neck, clothes), then settled by GrabCut seeded from that;
* ``"grabcut"``: no network, GrabCut seeded from the mesh alone (the cap over the head is
  probably hair, the face certainly not).

Recolouring sets the hair's hue and chroma (a, b) to the colour's and moves its mean
lightness part of the way, so strands, shine and shadow stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import UnknownModelError
from ..landmarks.regions import BROW_LEFT, BROW_RIGHT, FACE_OVAL, polygon_mask
from .colour import Colour
from .face import FaceGeometry
from .makeup import paint

HAIR_METHODS = ("segmentation", "grabcut")
SEGMENTER = "selfie"
SEG_SIZE = 256
WORK_SIDE = 256  # GrabCut runs on the head region scaled to about this size
ITERATIONS = 3
CAP_SCALE = (1.45, 1.6)
BODY = 0.5  # person probability above which a pixel counts as the person
BELOW_FAR = 30.0  # below the jaw, LAB distance from the scalp's colour beyond which it is not hair
SKIN_NEAR = 18.0  # LAB distance to the cheeks' colour within which a pixel is taken for skin  # the head's cap: the oval grown this much sideways and upwards


@dataclass(frozen=True, eq=False)
class HairMask:
    mask: np.ndarray  # (H, W) float32 in [0, 1], soft-edged
    box: tuple[int, int, int, int]
    method: str

    @property
    def binary(self) -> np.ndarray:
        return self.mask > 0.5


@dataclass(frozen=True, eq=False)
class _Head:
    """The head region, scaled for work, and the mesh-derived masks in it."""

    small: np.ndarray
    box: tuple[int, int, int, int]
    scale: float
    pts: np.ndarray
    cap: np.ndarray  # bool: the oval grown over the head
    face_low: np.ndarray  # bool: the face (eroded oval) below the brows
    forehead: np.ndarray  # bool: the oval above the brows
    brow_y: float
    chin_y: float
    d_hair: np.ndarray | None  # LAB distance to the scalp's colour
    d_skin: np.ndarray | None  # LAB distance to the cheeks' colour


def _head(image: np.ndarray, face: FaceGeometry) -> _Head:
    h, w = image.shape[:2]
    xy = face.xy
    oval = xy[list(FACE_OVAL)]
    centre = oval.mean(0)
    fw, fh = np.ptp(oval[:, 0]), np.ptp(oval[:, 1])
    x0, x1 = int(max(0, centre[0] - 1.6 * fw)), int(min(w, centre[0] + 1.6 * fw))
    y0, y1 = int(max(0, oval[:, 1].min() - 0.9 * fh)), int(min(h, oval[:, 1].max() + 0.9 * fh))
    roi = image[y0:y1, x0:x1]
    s = min(1.0, WORK_SIDE / max(roi.shape[:2]))
    small = cv2.resize(roi, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else roi.copy()
    pts = (xy - [x0, y0]) * s
    sh, sw = small.shape[:2]
    c = (centre - [x0, y0]) * s
    ring = pts[list(FACE_OVAL)]
    cap = np.zeros((sh, sw), np.uint8)
    cv2.fillPoly(cap, [np.round(c + (ring - c) * np.array(CAP_SCALE)).astype(np.int32)], 1)
    rows = np.arange(sh)[:, None]
    brow_y = float(pts[list(BROW_LEFT) + list(BROW_RIGHT), 1].mean())
    oval_mask = polygon_mask((sh, sw), pts, FACE_OVAL) > 127
    k = max(1, int(0.06 * fw * s))
    eroded = cv2.erode(oval_mask.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    top = pts[10]
    scalp = lab[max(0, int(top[1] - 0.2 * fh * s)):max(1, int(top[1] - 0.05 * fh * s)),
                max(0, int(top[0] - 0.2 * fw * s)):max(1, int(top[0] + 0.2 * fw * s))].reshape(-1, 3)
    cheeks = np.concatenate([_patch(lab, pts[i], 0.06 * fw * s) for i in (50, 280, 18)])
    d_hair = d_skin = None
    if len(scalp) and len(cheeks):
        d_hair = np.linalg.norm(lab - np.median(scalp, 0), axis=-1)
        d_skin = np.linalg.norm(lab - np.median(cheeks, 0), axis=-1)
    return _Head(small, (x0, y0, x1, y1), s, pts, cap > 0, eroded & (rows > brow_y), oval_mask & (rows <= brow_y),
                 brow_y, float(pts[152, 1]), d_hair, d_skin)


def _patch(lab: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    r = max(1, int(radius))
    x, y = int(centre[0]), int(centre[1])
    return lab[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].reshape(-1, 3)


def _person(head: _Head) -> np.ndarray:
    """Person probability over the work region (MediaPipe selfie segmentation)."""
    from ..models.runtime import onnx_session

    session = onnx_session(SEGMENTER)
    sh, sw = head.small.shape[:2]
    side = max(sh, sw)
    oy, ox = (side - sh) // 2, (side - sw) // 2
    square = cv2.copyMakeBorder(head.small, oy, side - sh - oy, ox, side - sw - ox, cv2.BORDER_REPLICATE)
    x = cv2.resize(square, (SEG_SIZE, SEG_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32) / np.float32(255.0)
    out = session.run(None, {session.get_inputs()[0].name: x[None]})[0].reshape(SEG_SIZE, SEG_SIZE)
    prob = cv2.resize(out, (side, side), interpolation=cv2.INTER_LINEAR)
    return prob[oy:oy + sh, ox:ox + sw]


def _seeds_mesh(head: _Head) -> np.ndarray:
    sh, sw = head.small.shape[:2]
    rows = np.arange(sh)[:, None]
    fh = head.chin_y - head.pts[10, 1]
    seeds = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    seeds[head.cap & (rows < head.brow_y + 0.15 * fh)] = cv2.GC_PR_FGD
    seeds[head.face_low] = cv2.GC_BGD
    seeds[head.forehead] = cv2.GC_PR_BGD
    corner = int(0.12 * sw)
    seeds[-corner:, :corner] = cv2.GC_BGD
    seeds[-corner:, -corner:] = cv2.GC_BGD
    if head.d_hair is not None:
        seeds[head.forehead & (head.d_skin < 0.5 * head.d_hair)] = cv2.GC_BGD
        seeds[head.cap & ~head.face_low & ~head.forehead & (head.d_hair < 12)] = cv2.GC_FGD
    return seeds


def _seeds_person(head: _Head, person: np.ndarray) -> np.ndarray:
    sh, sw = head.small.shape[:2]
    rows = np.arange(sh)[:, None]
    seeds = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    body = person > BODY
    seeds[person > 0.2] = cv2.GC_PR_BGD
    not_face = ~head.face_low & ~head.forehead
    seeds[body & not_face] = cv2.GC_PR_FGD
    seeds[head.face_low] = cv2.GC_BGD
    seeds[head.forehead] = cv2.GC_PR_BGD
    if head.d_hair is not None:
        skin_like = head.d_skin < head.d_hair
        seeds[head.forehead & skin_like] = cv2.GC_BGD
        seeds[head.forehead & ~skin_like & body] = cv2.GC_PR_FGD
        below = rows > head.chin_y - 0.05 * (head.chin_y - head.brow_y)
        seeds[below & body & (skin_like | (head.d_hair > BELOW_FAR))] = cv2.GC_PR_BGD  # neck, clothes
        seeds[below & body & skin_like & (head.d_skin < 10)] = cv2.GC_BGD
        seeds[body & not_face & skin_like & (head.d_skin < SKIN_NEAR)] = cv2.GC_PR_BGD  # ears, neck, shoulders
        seeds[(person > 0.9) & not_face & (rows < head.brow_y) & (head.d_hair < 15)] = cv2.GC_FGD
    return seeds


def hair_mask(image: np.ndarray, face: FaceGeometry, method: str = "segmentation",
              iterations: int = ITERATIONS) -> HairMask:
    """The hair around ``face``, by ``method`` (``HAIR_METHODS``)."""
    if method not in HAIR_METHODS:
        raise UnknownModelError(method, list(HAIR_METHODS), kind="hair method")
    head = _head(image, face)
    seeds = _seeds_person(head, _person(head)) if method == "segmentation" else _seeds_mesh(head)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    if (seeds == cv2.GC_FGD).any() or (seeds == cv2.GC_PR_FGD).any():
        try:
            cv2.grabCut(head.small, seeds, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            pass  # a class with too few pixels for its colour model: keep the seeds as they are
    hair = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    count, labels = cv2.connectedComponents(hair, connectivity=8)
    if count > 2:  # keep the parts that touch the head's cap
        touching = np.unique(labels[head.cap & (hair > 0)])
        hair = np.isin(labels, touching[touching > 0]).astype(np.uint8)
    x0, y0, x1, y1 = head.box
    soft = cv2.resize(cv2.GaussianBlur(hair.astype(np.float32), (0, 0), 0.8), (x1 - x0, y1 - y0),
                      interpolation=cv2.INTER_LINEAR)
    mask = np.zeros(image.shape[:2], np.float32)
    mask[y0:y1, x0:x1] = soft
    return HairMask(mask, head.box, method)


def recolour_hair(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.7,
                  mask: HairMask | None = None, method: str = "segmentation") -> tuple[np.ndarray, HairMask]:
    """``image`` with the hair around ``face`` recoloured, and the mask used."""
    mask = mask or hair_mask(image, face, method)
    x0, y0, x1, y1 = mask.box
    return paint(image, mask.mask[y0:y1, x0:x1], colour, strength, mask.box, lightness=0.5), mask


def hair_colour(image: np.ndarray, face: FaceGeometry, colour: Colour, strength: float = 0.7) -> np.ndarray:
    """The try-on step: the hair recoloured, its mask from person segmentation (the ``selfie`` model;
    ``ModelNotInstalledError`` names the command that installs it)."""
    return recolour_hair(image, face, colour, strength)[0]

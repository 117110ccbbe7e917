"""Face swap: the source person's face on the target's head, with geometry and classical blending.

1. Geometry (3D-aware). Both meshes are fitted with the canonical face (``head_pose``). The
   source's mesh is taken out of its pose into the canonical frame and put into the
   target's pose, so a turned target gets the source's face shape turned the same way;
   it blends back to the target's own points towards the face oval (``shape`` sets how
   much of the source's shape is used inside).
2. Texture. Every mesh triangle is painted from the source photo; a triangle the source's
   pose hides or squeezes (the far side of a turned face) is painted from its mirror
   triangle on the visible side. Triangles are drawn far to near, so the target's pose
   hides what it should. The mouth opening and the eyes come from the target itself
   (warped to the new shape), so teeth, tongue and the eyes' wetness stay the target's.
3. Colour and light: matched in CIELAB per face region (``colour_match``).
4. Blend: Poisson (OpenCV's seamless cloning) inside the face oval, then a feathered edge.

It refuses to run unless the caller says the source person has consented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from ..errors import ConsentError
from ..landmarks.geometry import canonical_face
from ..landmarks.pose import HeadPose
from ..landmarks.regions import FACE_OVAL, LIPS_INNER, face_triangles, hole_triangles, mirror_index, polygon_mask
from .colour_match import ColourTransfer, apply_transfer, fit_transfer, from_lab, to_lab
from .face import FaceGeometry, check_pose, find_face
from .warp import warp_triangles

SHAPE = 0.8  # share of the source's own face shape used inside the oval
SHAPE_RAMP_CM = 2.0  # distance from the oval (canonical cm) over which the shape blends in
MOUTH_SHAPE, MOUTH_RAMP_CM = 0.25, 1.5  # the mouth keeps mostly the target's shape (its expression)
HIDDEN_FACING = 0.2  # a triangle facing the camera less than this share of its frontal facing counts as hidden
MOUTH_OPEN = 0.04  # lips apart by this share of the face height: the target's mouth interior is kept
MASK_ERODE = 0.04  # the blend mask shrinks this share of the face width inside the oval
FEATHER = 0.035  # and its edge is feathered over this share
CROP_MARGIN = 0.15  # the work region: the mesh's box grown by this share of the face width


def _camera(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)
    return np.stack([p[:, 0], -p[:, 1], -p[:, 2]], axis=1)


def _from_camera(cam: np.ndarray) -> np.ndarray:
    return np.stack([cam[:, 0], -cam[:, 1], -cam[:, 2]], axis=1)


def unpose(points: np.ndarray, pose: HeadPose) -> np.ndarray:
    """Mesh points (image pixels, x y z) to the canonical frame (cm) by the inverse of the fitted pose."""
    return (_camera(points) - pose.translation) @ pose.rotation / pose.scale


def repose(canonical: np.ndarray, pose: HeadPose) -> np.ndarray:
    """Canonical-frame points (cm) to image pixels (x, y, z) under ``pose``."""
    return _from_camera(pose.scale * canonical @ pose.rotation.T + pose.translation)


def _shape_weights(strength: float) -> np.ndarray:
    """Per point: ``strength`` inside, 0 on the oval; near the mouth only ``MOUTH_SHAPE`` of it,
    since how far the mouth opens is the target's expression, not the source's identity."""
    v = canonical_face().vertices.astype(np.float64)

    def dist(ring):
        pts = v[list(ring)]
        return np.sqrt(((v[:, None, :2] - pts[None, :, :2]) ** 2).sum(-1)).min(1)

    w = np.clip(dist(FACE_OVAL) / SHAPE_RAMP_CM, 0.0, 1.0)
    near_mouth = np.clip(1.0 - dist(LIPS_INNER) / MOUTH_RAMP_CM, 0.0, 1.0)
    return strength * w * (1.0 - (1.0 - MOUTH_SHAPE) * near_mouth)


def swapped_geometry(source: FaceGeometry, target: FaceGeometry, strength: float = SHAPE) -> np.ndarray:
    """(468, 3) target-image points of the source's face shape in the target's pose."""
    canon_s, canon_t = unpose(source.points, source.pose), unpose(target.points, target.pose)
    w = _shape_weights(strength)[:, None]
    return repose(canon_t + w * (canon_s - canon_t), target.pose)


def facing(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """How squarely each triangle faces the camera: the z part of its unit normal (camera frame)."""
    cam = _camera(points)
    a, b, c = cam[tris[:, 0]], cam[tris[:, 1]], cam[tris[:, 2]]
    n = np.cross(b - a, c - a)
    return n[:, 2] / (np.linalg.norm(n, axis=1) + 1e-9)


@dataclass(frozen=True, eq=False)
class Swap:
    """A swapped image and how it was made."""

    image: np.ndarray
    source: FaceGeometry
    target: FaceGeometry
    mirrored: float  # share of the face's triangles painted from their mirror (hidden in the source)
    transfer: ColourTransfer | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source_face": self.source.to_dict(), "target_face": self.target.to_dict(),
                "mirrored_share": round(self.mirrored, 3), "consent": True,
                "method": "mesh-warp+lab-match+poisson"}


class FaceSwapper:
    """The source face prepared once; ``apply`` puts it on any number of targets (video frames)."""

    def __init__(self, source_image: np.ndarray, source: FaceGeometry, shape: float = SHAPE) -> None:
        self.image = source_image
        self.geometry = source
        self.shape = shape
        tris = face_triangles()
        holes = np.concatenate(list(hole_triangles().values()))
        self.triangles = tris
        self.is_hole = np.zeros(len(tris), bool)
        self.is_hole[len(tris) - len(holes):] = True
        self.is_mouth = np.zeros(len(tris), bool)
        start = len(tris) - len(holes)
        self.is_mouth[start:start + len(hole_triangles()["mouth"])] = True
        self.is_eye = self.is_hole & ~self.is_mouth
        # Hidden triangles of the source: painted from their mirror image on the other side.
        canon = canonical_face().vertices.astype(np.float64)
        frontal = facing(_from_camera(canon), tris)
        own = facing(source.points, tris)
        mirror = mirror_index()[tris]
        mirrored_facing = -facing(source.points, mirror)  # a mirrored triangle winds the other way
        self.use_mirror = (own < HIDDEN_FACING * np.maximum(frontal, 1e-3)) & (mirrored_facing > own + 0.2) & ~self.is_hole
        src_idx = np.where(self.use_mirror[:, None], mirror, tris)
        self.src_tris = source.xy[src_idx]
        self.frontal = frontal

    def apply(self, target_image: np.ndarray, target: FaceGeometry, previous: ColourTransfer | None = None,
              keep: float = 0.0) -> Swap:
        h, w = target_image.shape[:2]
        geo = swapped_geometry(self.geometry, target, self.shape)
        face_w = float(np.ptp(geo[list(FACE_OVAL), 0]))
        # everything happens in the face's region of the target, then is pasted back
        margin = CROP_MARGIN * face_w + 4
        x0, y0 = np.maximum(np.floor(geo[:, :2].min(0) - margin), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(geo[:, :2].max(0) + margin), [w, h]).astype(int)
        crop = target_image[y0:y1, x0:x1]
        ch, cw = crop.shape[:2]
        offset = np.array([x0, y0, 0.0])
        local = geo - offset
        tris = self.triangles
        from_target = self.is_hole & (self.is_mouth if _mouth_open(target) else self.is_eye)
        # Triangles the target's pose turns away are not drawn; the rest far to near.
        visible = facing(geo, tris) > -0.05
        order = np.argsort(-geo[tris][:, :, 2].mean(1))
        order = order[visible[order]]
        dst = local[tris][order, :, :2]
        src = np.where(from_target[order, None, None], (target.xy - offset[:2])[tris][order], self.src_tris[order])
        which = from_target[order].astype(np.int32)
        warped, labels = warp_triangles([self.image, crop], dst, src, (ch, cw), which)
        painted = labels >= 0
        holes = painted & from_target[order][np.maximum(labels, 0)]

        oval = polygon_mask((ch, cw), local, FACE_OVAL) > 127
        skin = painted & ~holes & oval
        target_lab, warped_lab = to_lab(crop), to_lab(warped)
        transfer = fit_transfer(warped_lab, target_lab, skin, local, sigma=0.3 * face_w).blend(previous, keep)
        corrected = from_lab(apply_transfer(warped_lab, transfer, _box(painted, ch, cw)))
        corrected[holes] = warped[holes]  # the target's own eyes and mouth: no correction

        composite = crop.copy()
        composite[painted] = corrected[painted]
        mask = _blend_mask(oval & painted, face_w)
        out = _poisson(composite, crop, mask)
        alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(1.0, FEATHER * face_w))[..., None]
        result = target_image.copy()
        result[y0:y1, x0:x1] = np.clip(alpha * out + (1 - alpha) * crop + 0.5, 0, 255).astype(np.uint8)
        mirrored = float(self.use_mirror[~self.is_hole].mean())
        return Swap(result, self.geometry, target, mirrored, transfer)


def _mouth_open(face: FaceGeometry) -> bool:
    gap = np.linalg.norm(face.xy[13] - face.xy[14])
    height = np.linalg.norm(face.xy[10] - face.xy[152])
    return bool(gap > MOUTH_OPEN * height)


def _box(mask: np.ndarray, h: int, w: int) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return 0, 0, 1, 1
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _blend_mask(region: np.ndarray, face_w: float) -> np.ndarray:
    k = max(1, int(round(MASK_ERODE * face_w)))
    mask = cv2.erode(region.astype(np.uint8) * 255, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    mask[:2], mask[-2:], mask[:, :2], mask[:, -2:] = 0, 0, 0, 0  # seamless cloning needs a margin
    return mask


def _poisson(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blending of ``src`` into ``dst`` inside ``mask``, in place (same position)."""
    ys, xs = np.nonzero(mask)
    if len(ys) < 16:
        return dst.copy()
    x, y, bw, bh = cv2.boundingRect(np.stack([xs, ys], 1).astype(np.int32))
    centre = (x + bw // 2, y + bh // 2)
    try:
        return cv2.seamlessClone(src, dst, mask.copy(), centre, cv2.NORMAL_CLONE)  # it writes into the mask
    except cv2.error:
        return src.copy()


def swap_face(source_image: np.ndarray, target_image: np.ndarray, consent: bool = False,
              source_name: str = "source", target_name: str = "target", largest: bool = False,
              shape: float = SHAPE) -> Swap:
    """Put the face of ``source_image`` onto the face in ``target_image``.

    ``consent`` must be True: the caller states that the source person agreed to this use of
    their face (recorded in the output's provenance by the file-level functions).
    """
    require_consent(consent)
    source = find_face(source_image, source_name, largest)
    check_pose(source, source_name)
    target = find_face(target_image, target_name, largest)
    check_pose(target, target_name)
    return FaceSwapper(source_image, source, shape).apply(target_image, target)


def require_consent(consent: bool) -> None:
    if consent is not True:
        raise ConsentError("a face swap needs the consent of the person whose face is used: confirm it with "
                           "consent=True (CLI: --consent, HTTP: consent=true); it is recorded in the output's provenance")

"""Alignment by a least-squares similarity transform from 5 landmarks to a template."""

from __future__ import annotations

import cv2
import numpy as np

from ..detect.base import check_image
from ..errors import InputError, ShapeError
from ..types import AlignedFaces, Faces
from .templates import Template, get_template


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Umeyama's least-squares similarity (rotation, uniform scale, shift): 2x3 mapping src to dst."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ShapeError("points", "two (K, 2) arrays with K >= 2 and equal shapes", f"{src.shape} and {dst.shape}")
    n = len(src)
    mean_src, mean_dst = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mean_src, dst - mean_dst
    cov = d.T @ s / n
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1
    rot = u @ fix @ vt
    var = (s**2).sum() / n
    if var <= 1e-12:
        raise InputError("landmarks are degenerate (all at one point): cannot align")
    scale = np.trace(np.diag(sig) @ fix) / var
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mean_dst - scale * rot @ mean_src
    return matrix


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def align_faces(image: np.ndarray, faces: Faces, template: str | Template = "arcface112") -> AlignedFaces:
    """Cut one crop per face so its landmarks land on the template's points."""
    check_image(image)
    tpl = template if isinstance(template, Template) else get_template(template)
    if faces.landmarks is None or faces.landmarks.shape[1] != 5:
        raise InputError("alignment needs 5-point landmarks; this detector gave none")
    width, height = tpl.size
    crops = np.zeros((len(faces), height, width, 3), np.uint8)
    matrices = np.zeros((len(faces), 2, 3))
    for i, points in enumerate(faces.landmarks):
        matrices[i] = similarity_transform(points, tpl.points)
        crops[i] = cv2.warpAffine(image, matrices[i], (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return AlignedFaces(crops, matrices, tpl.name, faces)


def paste_back(image: np.ndarray, aligned: AlignedFaces, crops: np.ndarray | None = None, feather: int = 4) -> np.ndarray:
    """Warp (edited) crops back into a copy of the image, blending a feathered border."""
    check_image(image)
    crops = aligned.crops if crops is None else np.asarray(crops)
    if crops.shape != aligned.crops.shape:
        raise ShapeError("crops", str(aligned.crops.shape), crops.shape)
    out = image.astype(np.float32)
    h, w = image.shape[:2]
    cw, ch = aligned.size
    mask_crop = np.zeros((ch, cw), np.float32)
    mask_crop[feather : ch - feather, feather : cw - feather] = 1.0
    if feather:
        mask_crop = cv2.GaussianBlur(mask_crop, (0, 0), feather / 2)
    for crop, inverse in zip(crops, aligned.inverse_matrices):
        warped = cv2.warpAffine(crop, inverse, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(mask_crop, inverse, (w, h), flags=cv2.INTER_LINEAR)[:, :, None]
        out = out * (1 - mask) + warped.astype(np.float32) * mask
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)

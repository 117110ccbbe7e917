"""Find the one face in a photo and lift it to metric 3D: detector, face mesh and iris, twice.

The mesh and iris models run on the photo and on its mirror image; the mirror pass is mapped
back (x flipped, the mesh's left and right points swapped) and both are kept in ``Face3D.passes``.
Their mean is steadier than either, and their difference is the per-photo landmark noise that
every measure's uncertainty includes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..detect import Detector
from ..image import ImageInput, describe, load_image
from ..types import Faces
from .metric import Face3D, lift
from .regions import mirror_permutation


class FaceLifter:
    """Reusable detector + mesh; models load on first use and stay loaded."""

    def __init__(self, detector: Detector | None = None, mirror: bool = True, ipd_mm: float | None = None) -> None:
        from ..landmarks.mesh import FaceMesh

        self._detector = detector
        self.mirror = mirror
        self.ipd_mm = ipd_mm  # a known IPD to set the scale instead of the iris
        self.mesh = FaceMesh(refine=True, iris=True)

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            from ..match.faces import recognition_detector

            self._detector = recognition_detector()
        return self._detector

    def find(self, image: np.ndarray, source: str = "image", largest: bool = False) -> Faces:
        """The one face (the largest with ``largest``), else NoFaceError / MultipleFacesError."""
        from ..match.faces import one_face

        return one_face(image, self.detector, source=source, largest=largest, refine=None)

    def lift(self, image: ImageInput, faces: Faces | None = None, largest: bool = False,
             source: str | None = None) -> Face3D:
        """``Face3D`` of the one face in ``image`` (or of ``faces[0]`` when given)."""
        source = source or describe(image)
        pixels = load_image(image)
        if faces is None:
            faces = self.find(pixels, source, largest)
        face = faces[0]
        found = self.mesh.predict(pixels, face)
        points, iris, score = [found.points[0]], [found.extras["iris"][0]], float(found.scores[0])
        if self.mirror:
            p, i = self._mirror_pass(pixels, face)
            points.append(p)
            iris.append(i)
        h, w = pixels.shape[:2]
        return lift(np.stack(points), np.stack(iris), face.boxes[0], score, (w, h), self.ipd_mm)

    def _mirror_pass(self, pixels: np.ndarray, face: Faces) -> tuple[np.ndarray, np.ndarray]:
        w = pixels.shape[1]
        flipped = np.ascontiguousarray(pixels[:, ::-1])
        found = self.mesh.predict(flipped, mirror_faces(face, w))
        points = unmirror(found.points[0], w)[mirror_permutation()]
        iris = unmirror(found.extras["iris"][0], w)
        return points, np.concatenate([iris[5:], iris[:5]])


def mirror_faces(faces: Faces, width: int) -> Faces:
    """Boxes and 5 landmarks of ``faces`` in the image mirrored left-right (``image[:, ::-1]``)."""
    boxes = faces.boxes.copy()
    boxes[:, [0, 2]] = width - 1 - faces.boxes[:, [2, 0]]
    landmarks = None
    if faces.landmarks is not None:
        landmarks = faces.landmarks.copy()
        landmarks[..., 0] = width - 1 - landmarks[..., 0]
        if landmarks.shape[1] == 5:
            landmarks = landmarks[:, [1, 0, 2, 4, 3]]
    return Faces(boxes, faces.scores, landmarks, faces.extras)


def unmirror(points: np.ndarray, width: int) -> np.ndarray:
    out = np.asarray(points, np.float64).copy()
    out[:, 0] = width - 1 - out[:, 0]
    return out


def lift_face(image: ImageInput, largest: bool = False, **options: Any) -> Face3D:
    """One-shot ``FaceLifter(**options).lift(image, largest=largest)``."""
    return FaceLifter(**options).lift(image, largest=largest)

"""The face mesh lifted to a metric, pose-normalised 3D face.

The 468 mesh points (x, y in image pixels, z a relative depth on the same pixel scale) are
turned into the camera frame (x right, y up, z towards the camera), the head pose is the
similarity fit of MediaPipe's canonical face to them (``mien.landmarks.pose``), and the
points are rotated back by that pose about their weighted centroid: the result is the
observed face as if seen from the front, in the canonical face's axes (x to the face's left,
y up, z towards the camera). The points keep their own shape; only the rigid pose is undone.

The scale in millimetres rests on one assumption: the iris is 11.7 mm across. The
horizontal visible iris diameter of adults is 11.71 +- 0.42 mm (Rüfer et al., Cornea 2005),
and MediaPipe's own iris-depth estimate uses the same 11.7 mm; so the scale of one person
is wrong by about 3.6% (1 SD) before any measurement error. The iris diameter in pixels is
the mean of the horizontal and vertical diameters of both irises (as MediaPipe does), in
each pass of the mesh (the photo and its mirror image).

mien's iris model draws its rim inside the limbus: on 124 near-frontal WIDER FACE faces
(80 px wide or more) the pupil distance was 6.50 model iris diameters (median), against
63.4 / 11.71 = 5.41 in adults (IPD: Dodgson 2004; iris: Rüfer 2005). So the model's diameter is
taken as ``IRIS_MODEL_FACTOR`` = 0.833 of the true one. The log-ratio spread there (robust
SD 0.111) less the anatomical spread of IPD and iris (0.070) leaves ``IRIS_MODEL_ERROR`` =
8.6% per photo for the iris measurement itself (``benchmarks/face3d.py calibrate`` measures
both again). A person's scale is therefore wrong by about 9% (1 SD): sqrt(3.6%^2 + 8.6%^2).
Because the factor is set from the mean adult IPD, the mean IPD over many people is not
independent evidence for the scale; the spread, the gender difference and the other
measures' norms are. The camera is taken as weak-perspective (the whole face at one depth),
which holds to a few percent beyond about 60 cm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ShapeError
from ..landmarks.pose import HeadPose, head_pose
from .regions import EYE_LEFT, EYE_RIGHT

IRIS_MM = 11.7
IRIS_SD_MM = 0.42
IRIS_MODEL_FACTOR = 0.833  # the iris model's diameter / the true one (measured, see above)
IRIS_MODEL_ERROR = 0.086  # relative error of one photo's iris diameter from the model (measured)
SCALE_RESTS_ON = ("iris diameter of 11.7 mm (adults: 11.71 +- 0.42 mm, Rüfer et al. 2005), the iris model's "
                  f"diameter taken as {IRIS_MODEL_FACTOR} of it (calibrated on WIDER FACE); weak-perspective camera")


@dataclass(frozen=True)
class Scale:
    """Millimetres per pixel, what it rests on and how wrong it may be (relative, 1 SD)."""

    mm_per_px: float
    iris_px: float  # mean iris diameter in pixels
    iris_px_each: tuple[float, ...]  # per eye and pass: (right, left) of the photo, then of the mirror image
    population_error: float  # IRIS_SD_MM / IRIS_MM
    measurement_error: float  # standard error of iris_px, relative
    rests_on: str = SCALE_RESTS_ON

    @property
    def relative_error(self) -> float:
        return float(np.hypot(self.population_error, self.measurement_error))

    def to_dict(self) -> dict[str, Any]:
        return {"mm_per_px": round(self.mm_per_px, 5), "iris_px": round(self.iris_px, 2),
                "relative_error": round(self.relative_error, 4),
                "population_error": round(self.population_error, 4),
                "measurement_error": round(self.measurement_error, 4), "rests_on": self.rests_on}


@dataclass(frozen=True, eq=False)
class Face3D:
    """One face in metric 3D, pose removed.

    ``vertices`` (468, 3) mm, the mean of ``passes`` (one per mesh pass: the photo, then its
    mirror image mapped back); ``pupils`` (2, 3) mm, the person's right then left;
    ``image_points`` (468, 3) and ``iris`` (10, 3) the mean mesh in image pixels.
    ``to_image`` maps face-frame millimetres back into the photo.
    """

    vertices: np.ndarray
    passes: np.ndarray
    pupils: np.ndarray
    pupil_passes: np.ndarray
    image_points: np.ndarray
    iris: np.ndarray
    pose: HeadPose
    scale: Scale
    centroid: np.ndarray  # (3,) camera-frame pixels: the origin of the face frame
    box: np.ndarray  # (4,) detector box
    score: float  # mesh face-presence probability
    image_size: tuple[int, int]  # (width, height)

    def __post_init__(self) -> None:
        if self.vertices.shape != (468, 3):
            raise ShapeError("vertices", "(468, 3)", self.vertices.shape)

    @property
    def eye_distance_px(self) -> float:
        """Distance between the pupils in the photo, pixels."""
        return float(np.linalg.norm(self.iris[0, :2] - self.iris[5, :2]))

    def to_camera(self, vertices_mm: np.ndarray) -> np.ndarray:
        """Face-frame millimetres to camera-frame pixels (x right, y up, z towards the camera)."""
        return np.asarray(vertices_mm, np.float64) / self.scale.mm_per_px @ self.pose.rotation.T + self.centroid

    def to_image(self, vertices_mm: np.ndarray) -> np.ndarray:
        """Face-frame millimetres to image pixels (x, y) and depth (larger = further away)."""
        cam = self.to_camera(vertices_mm)
        return np.stack([cam[:, 0], -cam[:, 1], -cam[:, 2]], axis=1)

    def to_dict(self, include_vertices: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"box": [round(float(v), 1) for v in self.box], "mesh_score": round(self.score, 3),
                               "pose": self.pose.to_dict(), "scale": self.scale.to_dict(),
                               "eye_distance_px": round(self.eye_distance_px, 1)}
        if include_vertices:
            out["vertices_mm"] = np.round(self.vertices, 2).tolist()
        return out


def camera_frame(points: np.ndarray) -> np.ndarray:
    """Image pixels (x right, y down, z away) to the camera frame (x right, y up, z towards)."""
    p = np.asarray(points, np.float64)
    return np.stack([p[..., 0], -p[..., 1], -p[..., 2]], axis=-1)


def iris_diameters(iris: np.ndarray) -> np.ndarray:
    """(2,) mean of the horizontal and vertical diameters of each iris in (10, 3) iris points, pixels."""
    out = []
    for k in (0, 5):
        rim = iris[k + 1:k + 5, :2]
        out.append((np.linalg.norm(rim[0] - rim[2]) + np.linalg.norm(rim[1] - rim[3])) / 2)
    return np.array(out)


def metric_scale(iris_passes: np.ndarray, pupil_px: np.ndarray | None = None, ipd_mm: float | None = None) -> Scale:
    """The mm scale from (P, 10, 3) iris points of P mesh passes.

    With ``ipd_mm`` (a known inter-pupillary distance, e.g. from an optician) the scale rests
    on it instead: ``pupil_px`` holds each pass's pupil distance in pixels (3D, pose removed).
    """
    each = np.concatenate([iris_diameters(i) for i in iris_passes])
    mean = float(each.mean())
    if mean <= 0:
        raise ShapeError("iris", "a visible iris (diameter > 0 px)", f"{mean:.2f} px")
    sem = float(each.std(ddof=1) / np.sqrt(len(each))) if len(each) > 1 else 0.25
    iris_each = tuple(round(float(d), 2) for d in each)
    if ipd_mm is not None:
        if not 40.0 <= ipd_mm <= 90.0:
            raise InputError(f"a known IPD must be 40..90 mm, not {ipd_mm:g}")
        px = np.asarray(pupil_px, np.float64)
        spread = float(px.std(ddof=1) / np.sqrt(len(px))) if len(px) > 1 else 0.25
        return Scale(ipd_mm / float(px.mean()), mean, iris_each, 0.0, max(spread, 0.1) / float(px.mean()),
                     f"the given inter-pupillary distance of {ipd_mm:g} mm; weak-perspective camera")
    return Scale(IRIS_MM * IRIS_MODEL_FACTOR / mean, mean, iris_each, IRIS_SD_MM / IRIS_MM,
                 max(sem / mean, IRIS_MODEL_ERROR))


def pupils_3d(points: np.ndarray, iris: np.ndarray) -> np.ndarray:
    """(2, 3) image-pixel pupils, person's right eye first, each at the depth of its eye's outline.

    The iris model's depth is relative to its own crop, so the pupil takes the mean depth
    of the 16 mesh points around that eye instead.
    """
    right, left = iris[0].astype(np.float64).copy(), iris[5].astype(np.float64).copy()
    right[2] = points[list(EYE_RIGHT), 2].mean()
    left[2] = points[list(EYE_LEFT), 2].mean()
    return np.stack([right, left])


def lift(point_passes: np.ndarray, iris_passes: np.ndarray, box: np.ndarray, score: float,
         image_size: tuple[int, int], ipd_mm: float | None = None) -> Face3D:
    """A ``Face3D`` from P passes of the mesh (P, 468, 3) and iris (P, 10, 3), image pixels.

    The scale rests on the iris (11.7 mm), or on ``ipd_mm`` when the person's IPD is known.
    """
    point_passes = np.asarray(point_passes, np.float64)
    iris_passes = np.asarray(iris_passes, np.float64)
    if point_passes.ndim != 3 or point_passes.shape[1:] != (468, 3):
        raise ShapeError("point_passes", "(P, 468, 3)", point_passes.shape)
    if iris_passes.shape != (len(point_passes), 10, 3):
        raise ShapeError("iris_passes", f"({len(point_passes)}, 10, 3)", iris_passes.shape)
    mean_points = point_passes.mean(0)
    pose = head_pose(mean_points)
    from ..landmarks.geometry import canonical_face

    weights = canonical_face().weights.astype(np.float64)
    weights = weights if weights.sum() > 0 else np.ones(468)
    cam = camera_frame(mean_points)
    centroid = (weights / weights.sum()) @ cam
    pupil_px = [np.linalg.norm(np.diff(camera_frame(pupils_3d(p, i)), axis=0)) for p, i in zip(point_passes, iris_passes)]
    scale = metric_scale(iris_passes, np.array(pupil_px), ipd_mm)

    def normalise(points: np.ndarray) -> np.ndarray:
        return (camera_frame(points) - centroid) @ pose.rotation * scale.mm_per_px

    passes = np.stack([normalise(p) for p in point_passes])
    pupil_passes = np.stack([normalise(pupils_3d(p, i)) for p, i in zip(point_passes, iris_passes)])
    return Face3D(passes.mean(0), passes, pupil_passes.mean(0), pupil_passes, mean_points.astype(np.float32),
                  iris_passes.mean(0).astype(np.float32), pose, scale, centroid, np.asarray(box, np.float32),
                  float(score), image_size)

"""A multi-face tracker for video: constant-velocity Kalman filters on boxes, IoU association.

Each track's state is ``(cx, cy, w, h)`` plus their velocities in pixels per frame, with
noise proportional to the face's size (as in SORT/ByteTrack). Per frame, call
``predict()``, then ``update(detections)`` on frames where the detector ran. Detections
are matched to predicted boxes greedily by IoU; a detection that overlaps no prediction
may still join a track whose predicted centre is within half a face of it (fast motion,
or detection only every k-th frame). Unmatched detections start new tracks at once.

Fail-secure: a track the detector stops seeing is kept for ``keep`` frames, following its
predicted motion, with its box growing by ``grow`` of its size per unseen frame, or by
two standard deviations of the filter's position uncertainty if more (up to ``max_grow``
of its size on each side). ``boxes()`` returns what to hide
now: the detection itself for tracks seen this frame (no smoothing, hence no lag), the
grown prediction for the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..detect.base import iou_matrix
from ..errors import InputError
from ..types import Faces

# Noise per unit of face size: ByteTrack's position weight; twice its velocity weight, since
# heads and cameras change speed faster than walking pedestrians.
_POS, _VEL = 1.0 / 20, 1.0 / 80
_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)


def to_cxcywh(box: np.ndarray) -> np.ndarray:
    x1, y1, x2, y2 = (float(v) for v in box)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def to_xyxy(z: np.ndarray) -> np.ndarray:
    cx, cy, w, h = z[:4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


def grow_box(box: np.ndarray, factor: float) -> np.ndarray:
    """``box`` xyxy grown by ``factor`` of its width/height on each side."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] - factor * w, box[1] - factor * h, box[2] + factor * w, box[3] + factor * h], np.float32)


@dataclass
class Track:
    """One face followed through the video."""

    id: int
    mean: np.ndarray
    cov: np.ndarray
    box: np.ndarray  # the last detection's box
    score: float
    hits: int = 1
    unseen: int = 0  # frames since the last matched detection
    exempt: bool = False
    retired: bool = False  # from before a scene cut: kept hidden, never matched again

    def predicted_box(self) -> np.ndarray:
        return to_xyxy(self.mean)


class FaceTracker:
    """Keeps faces' boxes through detector misses and predicts their motion."""

    def __init__(self, keep: int = 15, iou_threshold: float = 0.2, grow: float = 0.05, max_grow: float = 1.0) -> None:
        if keep < 0 or grow < 0 or max_grow < 0 or not 0 <= iou_threshold <= 1:
            raise InputError("tracker needs keep >= 0, grow >= 0, max_grow >= 0 and iou_threshold in [0, 1]")
        self.keep = int(keep)
        self.iou_threshold = float(iou_threshold)
        self.grow = float(grow)
        self.max_grow = float(max_grow)
        self.tracks: list[Track] = []
        self._next_id = 0

    # -- Kalman filter ------------------------------------------------------------
    @staticmethod
    def _start(box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = to_cxcywh(box)
        w, h = max(z[2], 1.0), max(z[3], 1.0)
        std = np.array([2 * _POS * w, 2 * _POS * h, 2 * _POS * w, 2 * _POS * h,
                        10 * _VEL * w, 10 * _VEL * h, 10 * _VEL * w, 10 * _VEL * h])
        return np.concatenate([z, np.zeros(4)]), np.diag(std**2)

    def predict(self) -> None:
        """Advance every track by one frame."""
        for t in self.tracks:
            w, h = max(t.mean[2], 1.0), max(t.mean[3], 1.0)
            std = np.array([_POS * w, _POS * h, _POS * w, _POS * h, _VEL * w, _VEL * h, _VEL * w, _VEL * h])
            t.mean = _F @ t.mean
            t.mean[2:4] = np.maximum(t.mean[2:4], 1.0)
            t.cov = _F @ t.cov @ _F.T + np.diag(std**2)
            t.unseen += 1

    @staticmethod
    def _correct(t: Track, box: np.ndarray) -> None:
        z = to_cxcywh(box)
        w, h = max(z[2], 1.0), max(z[3], 1.0)
        r = np.diag(np.array([_POS * w, _POS * h, _POS * w, _POS * h]) ** 2)
        s = _H @ t.cov @ _H.T + r
        gain = np.linalg.solve(s, _H @ t.cov).T
        t.mean = t.mean + gain @ (z - _H @ t.mean)
        t.cov = (np.eye(8) - gain @ _H) @ t.cov

    # -- association --------------------------------------------------------------
    def _match(self, boxes: np.ndarray) -> list[tuple[int, int]]:
        if not self.tracks or not len(boxes):
            return []
        predicted = np.stack([t.predicted_box() for t in self.tracks])
        sim = iou_matrix(predicted, boxes).astype(np.float64)
        retired = np.array([t.retired for t in self.tracks])
        # Fallback for fast motion: the centre within half a face (plus a quarter per frame unseen,
        # as uncertainty grows) and a similar size; it scores below any real overlap.
        pc = (predicted[:, None, :2] + predicted[:, None, 2:]) / 2
        dc = (boxes[None, :, :2] + boxes[None, :, 2:]) / 2
        size_p = np.maximum(predicted[:, None, 2] - predicted[:, None, 0], predicted[:, None, 3] - predicted[:, None, 1])
        size_d = np.maximum(boxes[None, :, 2] - boxes[None, :, 0], boxes[None, :, 3] - boxes[None, :, 1])
        dist = np.linalg.norm(pc - dc, axis=2) / np.maximum(np.maximum(size_p, size_d), 1.0)
        ratio = np.maximum(size_p, size_d) / np.maximum(np.minimum(size_p, size_d), 1.0)
        gate = 0.5 + 0.25 * np.array([t.unseen for t in self.tracks], np.float64)[:, None]
        near = (sim < self.iou_threshold) & (dist < gate) & (ratio < 2.0)
        sim = np.where(near, self.iou_threshold * (1 - dist / gate), sim)
        sim[(sim < self.iou_threshold) & ~near] = 0
        sim[retired] = 0
        pairs = []
        while sim.size and sim.max() > 0:
            ti, di = np.unravel_index(int(np.argmax(sim)), sim.shape)
            pairs.append((int(ti), int(di)))
            sim[ti, :] = 0
            sim[:, di] = 0
        return pairs

    def update(self, detections: Faces, exempt: np.ndarray | None = None) -> np.ndarray:
        """Fold one frame's detections in (call ``predict()`` first for that frame); returns the
        track id each detection was given, (N,) int64 in the detections' order."""
        exempt = np.zeros(len(detections), bool) if exempt is None else np.asarray(exempt, bool)
        pairs = self._match(detections.boxes)
        ids = np.zeros(len(detections), np.int64)
        matched = set()
        for ti, di in pairs:
            t = self.tracks[ti]
            self._correct(t, detections.boxes[di])
            t.box, t.score, t.hits, t.unseen = detections.boxes[di].copy(), float(detections.scores[di]), t.hits + 1, 0
            t.exempt = bool(exempt[di])
            matched.add(di)
            ids[di] = t.id
        for di in range(len(detections)):
            if di not in matched:
                mean, cov = self._start(detections.boxes[di])
                self.tracks.append(Track(self._next_id, mean, cov, detections.boxes[di].copy(),
                                         float(detections.scores[di]), unseen=0, exempt=bool(exempt[di])))
                ids[di] = self._next_id
                self._next_id += 1
        self.tracks = [t for t in self.tracks if t.unseen <= self.keep]
        return ids

    def cut(self) -> None:
        """A new shot starts: existing tracks stop moving and can no longer match detections,
        but stay (and are hidden) until ``keep`` runs out."""
        for t in self.tracks:
            t.mean[4:] = 0
            t.retired = True

    def prune(self) -> None:
        """Drop tracks unseen for more than ``keep`` frames (``update`` does this too)."""
        self.tracks = [t for t in self.tracks if t.unseen <= self.keep]

    def _coasting_box(self, t: Track) -> np.ndarray:
        """The predicted box, grown by ``grow`` per unseen frame or by two standard deviations
        of the filter's uncertainty, whichever is more (a young track's speed is barely known)."""
        box = t.predicted_box()
        w, h = box[2] - box[0], box[3] - box[1]
        sd = np.sqrt(np.diag(t.cov)[:4])
        pad_x = min(max(self.grow * t.unseen * w, 2 * (sd[0] + sd[2] / 2)), self.max_grow * w)
        pad_y = min(max(self.grow * t.unseen * h, 2 * (sd[1] + sd[3] / 2)), self.max_grow * h)
        return np.array([box[0] - pad_x, box[1] - pad_y, box[2] + pad_x, box[3] + pad_y], np.float32)

    def boxes(self) -> Faces:
        """What to hide now: one row per live track, with ``track_id``, ``unseen`` and ``exempt`` extras."""
        self.prune()
        if not self.tracks:
            return Faces(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), None,
                         {"track_id": np.zeros(0, np.int64), "unseen": np.zeros(0, np.int64), "exempt": np.zeros(0, bool)})
        rows = []
        for t in self.tracks:
            if t.unseen == 0:
                rows.append(t.box)
            else:
                rows.append(self._coasting_box(t))
        return Faces(
            np.stack(rows),
            np.array([t.score for t in self.tracks], np.float32),
            None,
            {
                "track_id": np.array([t.id for t in self.tracks], np.int64),
                "unseen": np.array([t.unseen for t in self.tracks], np.int64),
                # A face the detector does not see now cannot be confirmed: never exempt.
                "exempt": np.array([t.exempt and t.unseen == 0 for t in self.tracks], bool),
            },
        )

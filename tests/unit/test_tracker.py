"""The face tracker and the video anonymiser's look-ahead on scripted scenes (no weights).

``ScriptedDetector`` reports the true boxes of a synthetic scene, minus the frames listed
as misses: it is a controlled input for the tracking logic, not a stand-in for a model
(the real detector runs on real video in tests/models).
"""

import numpy as np
import pytest

from mien.anonymize import Fill, VideoAnonymizer
from mien.detect.base import Detector, DetectorInfo
from mien.errors import InputError
from mien.types import Faces
from mien.video.tracker import FaceTracker

MAGENTA = (255, 0, 255)


def box_at(frame, start=(20, 40), velocity=(6, 1), size=30):
    x, y = start[0] + velocity[0] * frame, start[1] + velocity[1] * frame
    return np.array([x, y, x + size, y + size], np.float32)


class Scene:
    """Faces as (first_frame, start, velocity); frames are grey with no content to detect."""

    def __init__(self, faces, n=40, shape=(160, 320)):
        self.faces, self.n, self.shape = faces, n, shape

    def boxes(self, frame):
        return [box_at(frame - f0, s, v) for f0, s, v in self.faces if frame >= f0]

    def frames(self):
        for i in range(self.n):
            image = np.full((*self.shape, 3), 90, np.uint8)
            image[0, 0] = i % 256  # the frame's index, for the scripted detector
            yield image


class ScriptedDetector(Detector):
    info = DetectorInfo("scripted", (), "true boxes of a Scene, with scripted misses and failures")

    def __init__(self, scene, misses=(), fail_on=()):
        super().__init__(score_threshold=0.0)
        self.scene, self.misses, self.fail_on = scene, set(misses), set(fail_on)

    def _candidates(self, image):
        i = int(image[0, 0, 0])
        if i in self.fail_on:
            raise RuntimeError(f"cannot process frame {i}")
        boxes = [] if i in self.misses else self.scene.boxes(i)
        return Faces(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes), np.float32))


def uncovered(frame, true_boxes):
    """How many true face boxes are not entirely painted magenta."""
    count = 0
    for b in true_boxes:
        x1, y1, x2, y2 = (int(round(v)) for v in b)
        region = frame.image[max(y1, 0):y2, max(x1, 0):x2].reshape(-1, 3)
        count += bool(len(region)) and not np.all(region == MAGENTA)
    return count


def run(scene, detector, **options):
    anonymizer = VideoAnonymizer(Fill(color=MAGENTA), detector, **{"every": 1, **options})  # per frame unless asked
    return list(anonymizer.run(scene.frames()))


def test_track_coasts_along_the_predicted_path_through_misses():
    tracker = FaceTracker(keep=10)
    for i in range(10):
        tracker.predict()
        tracker.update(Faces(box_at(i)[None], np.ones(1, np.float32)))
    for i in range(10, 16):
        tracker.predict()
        out = tracker.boxes()
        assert len(out) == 1 and out.extras["unseen"][0] == i - 9
        truth, got = box_at(i), out.boxes[0]
        assert np.all(got[:2] <= truth[:2]) and np.all(got[2:] >= truth[2:]), f"frame {i}: the grown box holds the face"
        centre_error = np.abs((got[:2] + got[2:]) / 2 - (truth[:2] + truth[2:]) / 2).max()
        assert centre_error < 0.1 * 30, "the prediction follows the motion"


def test_track_is_dropped_after_keep_frames():
    tracker = FaceTracker(keep=3)
    tracker.predict()
    tracker.update(Faces(box_at(0)[None], np.ones(1, np.float32)))
    for _ in range(3):
        tracker.predict()
        assert len(tracker.boxes()) == 1
    tracker.predict()
    assert len(tracker.boxes()) == 0


def test_two_faces_keep_their_identities():
    tracker = FaceTracker()
    ids = []
    for i in range(12):
        tracker.predict()
        a, b = box_at(i, (10, 10), (5, 0)), box_at(i, (250, 80), (-5, 0))
        tracker.update(Faces(np.stack([a, b]), np.ones(2, np.float32)))
        out = tracker.boxes()
        ids.append(tuple(out.extras["track_id"][np.argsort(out.boxes[:, 1])]))
    assert len(set(ids)) == 1


def test_fast_motion_without_overlap_still_associates():
    tracker = FaceTracker()
    for i in range(0, 24):  # 10 px/frame, seen every 4th frame: 40 px jumps on a 30 px face never overlap
        tracker.predict()
        if i % 4 == 0:
            tracker.update(Faces(box_at(i, (0, 50), (10, 0))[None], np.ones(1, np.float32)))
    assert len(tracker.tracks) == 1 and tracker.tracks[0].hits == 6


def test_invalid_tracker_options():
    with pytest.raises(InputError):
        FaceTracker(keep=-1)
    with pytest.raises(InputError):
        VideoAnonymizer(detector=ScriptedDetector(Scene([])), every=0)


@pytest.mark.parametrize("every,misses", [(1, {8, 9, 10, 17}), (4, {12, 24})])
def test_every_frame_hides_every_face_despite_misses_and_late_arrivals(every, misses):
    # The second face enters at frame 6, between two detections when every=4.
    scene = Scene([(0, (20, 40), (6, 1)), (6, (300, 100), (-5, -1))])
    detector = ScriptedDetector(scene, misses=misses)
    frames = run(scene, detector, every=every)
    assert [f.index for f in frames] == list(range(scene.n)), "one output per input, in order"
    assert sum(uncovered(f, scene.boxes(f.index)) for f in frames) == 0
    assert sum(f.detected for f in frames) == (scene.n if every == 1 else len(range(0, scene.n, every)) + 1)


def test_lost_face_stays_hidden_for_keep_frames_then_is_released():
    scene = Scene([(0, (20, 40), (3, 0))], n=30)
    detector = ScriptedDetector(scene, misses=set(range(10, 30)))
    frames = run(scene, detector, keep=5)
    assert all(len(f.faces) == 1 for f in frames[10:15])
    assert all(len(f.faces) == 0 for f in frames[15:])


def test_frame_the_detector_fails_on_is_hidden_whole():
    scene = Scene([(0, (20, 40), (3, 0))], n=8)
    frames = run(scene, ScriptedDetector(scene, fail_on={3}))
    assert [f.whole for f in frames] == [i == 3 for i in range(8)]
    assert np.all(frames[3].image == MAGENTA)
    with pytest.raises(RuntimeError, match="frame 3"):
        run(scene, ScriptedDetector(scene, fail_on={3}), mask_failed=False)


class ExemptLeft:
    def is_exempt(self, image, faces):
        return faces.boxes[:, 0] < 160


def test_exempt_face_stays_visible_between_detections_too():
    scene = Scene([(0, (20, 40), (1, 0)), (0, (250, 40), (-1, 0))], n=12)
    frames = run(scene, ScriptedDetector(scene), every=3, exemption=ExemptLeft())
    for f in frames:
        left, right = scene.boxes(f.index)
        assert uncovered(f, [right]) == 0
        x1, y1, x2, y2 = (int(v) for v in left)
        assert np.all(f.image[y1 + 2:y2 - 2, x1 + 2:x2 - 2] == 90), f"frame {f.index}: the consenting face is visible"


class CutScene(Scene):
    """Shot 1 (grey 90) with one face moving right, then at ``cut`` shot 2 (grey 200) with one elsewhere."""

    def __init__(self, cut=7, n=16):
        super().__init__([], n=n)
        self.cut = cut

    def boxes(self, frame):
        if frame < self.cut:
            return [box_at(frame, (20, 40), (8, 0))]
        return [box_at(frame - self.cut, (250, 100), (-3, 0))]

    def frames(self):
        for image, i in zip(super().frames(), range(self.n)):
            if i >= self.cut:
                image[1:] = 200
            yield image


def test_scene_cut_is_not_interpolated_across():
    scene = CutScene()
    frames = run(scene, ScriptedDetector(scene), every=4)
    assert sum(uncovered(f, scene.boxes(f.index)) for f in frames) == 0
    detected = [f.index for f in frames if f.detected]
    assert 6 in detected and 7 in detected, "the frames either side of the cut are detected"
    before = {int(t) for f in frames[:7] for t in f.faces.extras["track_id"]}
    seen_after = {int(t) for f in frames[7:] if f.detected
                  for t, u in zip(f.faces.extras["track_id"], f.faces.extras["unseen"]) if u == 0}
    assert seen_after and not before & seen_after, "no track continues across the cut"

"""Anonymisation coverage and speed: WIDER photos, and a synthetic pan-and-zoom video.

Photos (``--part photos``), on the WIDER FACE validation subset: for each detector score
threshold and mask shape, the share of annotated faces (height >= 20 px, not marked
invalid) whose box is covered by the mask (>= 90% of its pixels fully replaced, and
100%), by face size; the share of masked pixels outside every annotated face box, and
outside every annotated face's head region (the box grown by the same margins: what
remains are false alarms and oversized boxes); and ms per image. The box methods (blur, pixelate, fill) share one mask; the ellipse has its own.

Video (``--part video``): clips made from WIDER photos with a virtual camera that pans
and zooms across each (1280x720, 30 fps), so every annotated face's box is known in
every frame. The clip is encoded to H.264, then anonymised through the real decode /
track / encode pipeline. Reported per setting (detection size x detection interval, with
decode and encode in threads or serial):
the share of frames where some annotated face >= 30 px tall is not covered (less than
90% of its box hidden; and less than 50%), the share of face-frames uncovered, and
frames per second end to end (decode + detect + track + mask + provenance mark + encode).

    python benchmarks/anonymize.py [--part photos|video|both] [--limit N] [--configs 1280x1:serial,640x3]
    python benchmarks/anonymize.py --part photos --detect-size 1280,960,768,640 --thresholds 0.1 --shapes box --tag _size
    python benchmarks/anonymize.py --example astronaut.png   # the before/after strip in docs
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import data_root, header, markdown_table, write_outputs  # noqa: E402
from detection import load_annotations  # noqa: E402

from mien.anonymize import Blur, EllipseMask, VideoAnonymizer, head_boxes  # noqa: E402
from mien.anonymize.detection import anonymize_detector  # noqa: E402
from mien.image import load_image  # noqa: E402
from mien.provenance import operation_code  # noqa: E402
from mien.provenance.watermark import FrameMarker  # noqa: E402
from mien.video.io import transcode, write_video  # noqa: E402

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.5)
SHAPES = {"box": Blur(), "ellipse": EllipseMask()}


def coverage(mask: np.ndarray, box: np.ndarray) -> float:
    """Share of the box's pixels (clipped to the frame) that the mask fully replaces."""
    h, w = mask.shape
    x1, y1 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x2, y2 = min(int(round(box[2])), w), min(int(round(box[3])), h)
    if x2 <= x1 or y2 <= y1:
        return 1.0
    return float((mask[y1:y2, x1:x2] >= 0.99).mean())


# -- photos --------------------------------------------------------------------------
def bench_photos(limit: int | None, sizes: list[int], thresholds: list[float], shapes: list[str]) -> dict:
    root = data_root() / "widerface_val_subset"
    annotations = load_annotations(root)
    paths = sorted(annotations)[:limit] if limit else sorted(annotations)
    detectors = {size: anonymize_detector("centerface", size, score_threshold=min(thresholds)) for size in sizes}
    stats = {(size, t, s): {"cov": [], "heights": [], "masked": 0, "outside": 0, "outside_head": 0}
             for size in sizes for t in thresholds for s in shapes}
    times: dict[int, list[float]] = {size: [] for size in sizes}
    cpu: dict[int, list[float]] = {size: [] for size in sizes}
    for path in paths:
        image = load_image(root / path)
        for size, detector in detectors.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            faces = detector.detect(image)
            times[size].append(time.perf_counter() - start)
            cpu[size].append(time.process_time() - cpu_start)
            score_photo(stats, size, thresholds, shapes, image, faces, annotations[path])
    rows = []
    for (size, t, name), s in stats.items():
        cov, hts = np.array(s["cov"]), np.array(s["heights"])
        rows.append({
            "detect_size": size, "threshold": t, "shape": name, "faces": len(cov),
            "covered_90": round(float((cov >= 0.9).mean()), 4),
            "covered_100": round(float((cov >= 0.999).mean()), 4),
            "covered_90_20_50px": round(float((cov[hts < 50] >= 0.9).mean()), 4),
            "covered_90_50px_up": round(float((cov[hts >= 50] >= 0.9).mean()), 4),
            "masked_not_face": round(s["outside"] / max(s["masked"], 1), 4),
            "masked_not_head": round(s["outside_head"] / max(s["masked"], 1), 4),
            "median_ms": round(1000 * float(np.median(times[size])), 1),
            "median_cpu_ms": round(1000 * float(np.median(cpu[size])), 1),
        })
    return {"images": len(paths), "rows": rows}


def score_photo(stats: dict, size: int, thresholds, shapes, image: np.ndarray, faces, annotated) -> None:
    """Add one photo's coverage and masked-area counts to ``stats`` for every threshold and shape."""
    h, w = image.shape[:2]
    face_area = np.zeros((h, w), bool)
    head_area = np.zeros((h, w), bool)  # the annotated faces grown by the box methods' head margins
    boxes = np.array([box for box, _ in annotated], np.float32).reshape(-1, 4)
    for area, grown in ((face_area, boxes), (head_area, head_boxes(boxes, SHAPES["box"].margin))):
        for box in grown:
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            area[max(y1, 0):y2, max(x1, 0):x2] = True
    gts = [(box, box[3] - box[1]) for box, invalid in annotated if not invalid and box[3] - box[1] >= 20]
    for t in thresholds:
        kept = faces[faces.scores >= t]
        for name in shapes:
            mask = SHAPES[name].mask(kept, h, w)
            s = stats[(size, t, name)]
            s["cov"] += [coverage(mask, box) for box, _ in gts]
            s["heights"] += [hh for _, hh in gts]
            hidden = mask >= 0.5
            s["masked"] += int(hidden.sum())
            s["outside"] += int((hidden & ~face_area).sum())
            s["outside_head"] += int((hidden & ~head_area).sum())


# -- video ---------------------------------------------------------------------------
SIZE = (1280, 720)
CORES = os.cpu_count() or 1
FPS = 30
cpu_seconds = time.process_time  # user + system CPU time of this process, all threads


def pick_photos(annotations: dict, per_event: int = 1) -> list[str]:
    """Per event, the first photos (by name) with 2 to 8 valid faces >= 30 px tall: a fixed rule, not a chosen few."""
    picked = []
    for event in ("0--Parade", "13--Interview", "19--Couple", "20--Family_Group"):
        found = 0
        for path in sorted(p for p in annotations if f"/{event}/" in p):
            valid = [b for b, inv in annotations[path] if not inv and b[3] - b[1] >= 30]
            if 2 <= len(valid) <= 8:
                picked.append(path)
                found += 1
                if found == per_event:
                    break
    return picked


def camera(image_shape: tuple[int, int], n: int, k: int) -> list[tuple[float, float, float]]:
    """(x0, y0, crop width) per frame: zoom in from the widest 16:9 crop to 70% of it while panning."""
    h, w = image_shape
    widest = min(w, h * SIZE[0] / SIZE[1])
    path = []
    for i in range(n):
        t = i / max(n - 1, 1)
        cw = widest * (1.0 - 0.3 * t)
        ch = cw * SIZE[1] / SIZE[0]
        direction = t if k % 2 == 0 else 1 - t  # alternate the pan direction between photos
        x0 = (w - cw) * direction
        y0 = (h - ch) * (0.5 + 0.3 * np.sin(np.pi * t))
        path.append((x0, min(max(y0, 0), h - ch), cw))
    return path


def render(annotations: dict, root: Path, frames_per_photo: int):
    """Yields (frame RGB, [(face box in frame pixels, valid)]) for the synthetic clip."""
    for k, path in enumerate(pick_photos(annotations)):
        image = load_image(root / path)
        for x0, y0, cw in camera(image.shape[:2], frames_per_photo, k):
            scale = SIZE[0] / cw
            m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
            frame = cv2.warpAffine(image, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            boxes = [((box - np.array([x0, y0, x0, y0], np.float32)) * scale, not invalid)
                     for box, invalid in annotations[path]]
            yield frame, boxes


def bench_video(frames_per_photo: int, configs: list[tuple[int, int, bool, bool]]) -> dict:
    """``configs``: (detect size, every, threaded decode/encode) settings."""
    root = data_root() / "widerface_val_subset"
    annotations = load_annotations(root)
    truth = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "pan.mp4"

        def frames():
            for frame, boxes in render(annotations, root, frames_per_photo):
                truth.append(boxes)
                yield frame

        n = write_video(src, frames(), fps=FPS, crf=20)
        start, cpu_start = time.perf_counter(), cpu_seconds()
        transcode(src, Path(tmp) / "copy.mp4", lambda it: it, threaded=False)  # decode + encode alone, for scale
        io_fps = round(n / (time.perf_counter() - start), 2)
        io_cpu_ms = round(1000 * (cpu_seconds() - cpu_start) / n, 1)
        start = time.perf_counter()
        transcode(src, Path(tmp) / "copy2.mp4", lambda it: it)  # the same in threads
        io_threaded_fps = round(n / (time.perf_counter() - start), 2)
        results = []
        for size, every, threaded, provenance in configs:
            anonymizer = VideoAnonymizer("blur", "centerface", every=every, detect_size=size)
            # as anonymize_video does by default
            marker = FrameMarker(operation_code("anonymize")) if provenance else (lambda image: image)
            per_frame = []

            def process(it):
                for out in anonymizer.run(it):
                    hidden = out.faces[~out.faces.extras["exempt"]]
                    mask = np.ones(SIZE[::-1], np.float32) if out.whole else anonymizer.method.mask(hidden, SIZE[1], SIZE[0])
                    covs = []
                    for box, valid in truth[out.index]:
                        bx = np.clip(box, [0, 0, 0, 0], [SIZE[0], SIZE[1], SIZE[0], SIZE[1]])
                        inside = (bx[2] - bx[0]) * (bx[3] - bx[1]) / max((box[2] - box[0]) * (box[3] - box[1]), 1)
                        if valid and box[3] - box[1] >= 30 and inside >= 0.5:  # at least half in frame
                            covs.append(coverage(mask, box))
                    per_frame.append(covs)
                    yield marker(out.image)

            start, cpu_start = time.perf_counter(), cpu_seconds()
            stats = transcode(src, Path(tmp) / f"out{size}x{every}.mp4", process, threaded=threaded)
            seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
            face_frames = [c for covs in per_frame for c in covs]
            results.append({
                "detect_size": size, "every": every, "threaded": threaded, "watermark": provenance, "frames": stats.frames,
                "detector_ms": round(1000 * float(np.median(anonymizer.detect_seconds)), 1),
                "frames_any_face_under_90": round(float(np.mean([any(c < 0.9 for c in covs) for covs in per_frame])), 4),
                "frames_any_face_under_50": round(float(np.mean([any(c < 0.5 for c in covs) for covs in per_frame])), 4),
                "face_frames": len(face_frames),
                "face_frames_under_90": round(float(np.mean([c < 0.9 for c in face_frames])), 4),
                "fps": round(stats.frames / seconds, 2),
                # CPU time is what the work costs whatever else runs: alone on the machine's cores, wall fps
                # would lie between 1 / cpu-per-frame (one core busy) and cores / cpu-per-frame (all busy).
                "cpu_ms_per_frame": round(1000 * cpu / stats.frames, 1),
                "fps_alone_range": [round(stats.frames / cpu, 2), round(CORES * stats.frames / cpu, 2)],
            })
    return {"photos": pick_photos(annotations), "frames": n, "size": list(SIZE), "decode_encode_fps": io_fps, "decode_encode_cpu_ms_per_frame": io_cpu_ms,
            "decode_encode_threaded_fps": io_threaded_fps,
            "rows": results}


def example(photo: Path, out: Path) -> None:
    """Before/after strip: the photo, then each method, faces found by the default detector."""
    from mien.anonymize import METHODS, anonymize_image
    from mien.image import save_image

    image = load_image(photo)
    faces = anonymize_detector().detect(image)
    tiles = [image] + [anonymize_image(image, faces=faces, method=name).image for name in METHODS]
    height = 256
    tiles = [cv2.resize(t, (int(t.shape[1] * height / t.shape[0]), height), interpolation=cv2.INTER_AREA) for t in tiles]
    labelled = []
    for tile, label in zip(tiles, ["original", *METHODS]):
        tile = tile.copy()
        cv2.putText(tile, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
        labelled.append(tile)
    save_image(np.hstack(labelled), out)
    print(f"wrote {out} ({len(faces)} face(s))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["photos", "video", "both"], default="both")
    parser.add_argument("--limit", type=int, default=None, help="photos: only the first N images")
    parser.add_argument("--frames-per-photo", type=int, default=32, help="32: cuts fall between detections")
    parser.add_argument("--detect-size", default="1280",
                        help="photos: detector long sides to compare, e.g. 1280,960,768,640")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)), help="photos: score thresholds")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="photos: mask shapes (box, ellipse)")
    parser.add_argument("--configs", default="1280x1,1280x3,640x3",
                        help="video: DETECT_SIZExEVERY settings to compare, comma-separated; "
                             "append :serial to decode and encode in the detecting thread, :nomark to skip the "
                             "provenance watermark")
    parser.add_argument("--tag", default="", help="suffix for the output files (docs/benchmarks/anonymize_<part><tag>.*)")
    parser.add_argument("--example", type=Path, default=None,
                        help="only write docs/anonymize_example.png from this photo (docs use skimage's public-domain astronaut)")
    args = parser.parse_args()
    if args.example:
        example(args.example, Path(__file__).resolve().parent.parent / "docs" / "anonymize_example.png")
        return
    result = {"meta": header()}
    tables = []
    try:
        result["meta"]["load_average"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    if args.part in ("photos", "both"):
        photos = bench_photos(args.limit, [int(v) for v in args.detect_size.split(",")],
                              [float(v) for v in args.thresholds.split(",")], args.shapes.split(","))
        result["photos"] = photos
        cols = ["detect_size", "threshold", "shape", "faces", "covered_90", "covered_100", "covered_90_20_50px",
                "covered_90_50px_up", "masked_not_face", "masked_not_head", "median_ms", "median_cpu_ms"]
        tables.append(f"WIDER val subset, {photos['images']} images (CenterFace ms per image: wall and CPU)\n\n"
                      + markdown_table(cols, [[r[c] for c in cols] for r in photos["rows"]]))
    if args.part in ("video", "both"):
        configs = [(int(c.split("x")[0]), int(c.split("x")[1].split(":")[0]), ":serial" not in c, ":nomark" not in c)
                   for c in args.configs.split(",")]
        video = bench_video(args.frames_per_photo, configs)
        result["video"] = video
        cols = ["detect_size", "every", "threaded", "watermark", "frames", "frames_any_face_under_90", "frames_any_face_under_50", "face_frames",
                "face_frames_under_90", "detector_ms", "fps", "cpu_ms_per_frame", "fps_alone_range"]
        tables.append(f"Synthetic pan/zoom video, {video['frames']} frames at {SIZE[0]}x{SIZE[1]} from "
                      f"{len(video['photos'])} WIDER photos; decode + encode alone: {video['decode_encode_fps']} fps, "
                      f"{video['decode_encode_cpu_ms_per_frame']} CPU ms/frame (threaded: "
                      f"{video['decode_encode_threaded_fps']} fps)\n\n" + markdown_table(cols, [[r[c] for c in cols] for r in video["rows"]]))
    write_outputs(("anonymize" if args.part == "both" else f"anonymize_{args.part}") + args.tag, result, "\n\n".join(tables))


if __name__ == "__main__":
    main()

"""The dlib ResNet rebuilt as ONNX gives dlib's own descriptors, in batches, through mien's pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from mien.embed import Embeddings, get_embedder
from mien.errors import EmbeddingMismatchError, ShapeError
from mien.image import load_image
from mien.models.runtime import dlib_shape_predictor
from mien.models.store import model_path

LFW_NAMES = [
    "Abel_Pacheco_0001", "Abel_Pacheco_0004", "Akhmed_Zakayev_0001", "Amber_Tamblyn_0001",
    "Abdoulaye_Wade_0001", "Abdullah_Gul_0001", "Abdel_Nasser_Assidi_0001", "Abbas_Kiarostami_0001",
]


@pytest.fixture(scope="module")
def dlib_chips(data_dir):
    """Face chips cut by dlib's own pipeline (HOG box, 5-point predictor, get_face_chip)."""
    import dlib

    hog = dlib.get_frontal_face_detector()
    predictor = dlib_shape_predictor("dlib-shape5")
    chips = []
    for name in LFW_NAMES:
        image = load_image(data_dir / "lfw" / "images" / f"{name}.jpg")
        rects = hog(image, 1)
        assert rects, name
        chips.append(dlib.get_face_chip(image, predictor(image, rects[0]), 150, 0.25))
    return np.stack(chips)


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("dlib-resnet", batch_size=3)


def test_onnx_equals_dlib_on_real_faces(dlib_chips, embedder):
    import dlib

    reference = dlib.face_recognition_model_v1(str(model_path("dlib-resnet")))
    want = np.array([np.array(reference.compute_face_descriptor(chip)) for chip in dlib_chips])
    got = embedder.embed(dlib_chips)  # batches of 3, the last one short
    assert got.vectors.shape == (len(LFW_NAMES), 128)
    assert got.model == "dlib-resnet" and got.metric == "euclidean"
    assert np.abs(got.vectors - want).max() < 1e-4


def test_same_person_closer_than_others(dlib_chips, embedder):
    d = embedder.embed(dlib_chips).distances(embedder.embed(dlib_chips))
    assert d[0, 1] < 0.6  # Abel Pacheco twice
    others = d[0, 2:]
    assert (others > 0.6).all() and d[0, 1] < others.min()


@pytest.mark.parametrize("aligner", ["landmarks", "shape5"])
def test_pipeline_with_centerface_matches_dlib_chip(data_dir, dlib_chips, embedder, aligner):
    """CenterFace landmarks -> dlib150 template, or CenterFace box -> HOG-like box -> dlib's
    5 points -> dlib's chip: either way close to the chip of dlib's own pipeline."""
    from mien.detect import get_detector

    image = load_image(data_dir / "lfw" / "images" / "Abel_Pacheco_0001.jpg")
    faces = get_detector("centerface").detect(image).largest()
    aligned = get_embedder("dlib-resnet", aligner=aligner).align(image, faces)
    assert aligned.crops.shape == (1, 150, 150, 3) and aligned.template == "dlib150"
    ours = embedder.embed(aligned)
    theirs = embedder.embed(dlib_chips[:1])
    # same face, slightly different crop: far below same-person distances (~0.3-0.5 on LFW)
    assert ours.distances(theirs)[0, 0] < 0.25
    # the matrix maps the image onto the chip: warping with it reproduces the crop
    import cv2

    warped = cv2.warpAffine(image, aligned.matrices[0], (150, 150), flags=cv2.INTER_LINEAR)
    assert np.abs(warped.astype(int) - aligned.crops[0].astype(int)).mean() < 6


def test_flip_tta_is_tagged_and_symmetric(dlib_chips):
    flip = get_embedder("dlib-resnet", flip=True)
    a = flip.embed(dlib_chips[:2])
    b = flip.embed(np.ascontiguousarray(dlib_chips[:2, :, ::-1]))
    assert a.model == "dlib-resnet+flip"
    assert np.abs(a.vectors - b.vectors).max() < 1e-5  # mirroring the input does not change it


def test_jitter_tta_views_and_id(dlib_chips, embedder):
    """dlib-style jitter: 8 views, the first two the crop and its mirror, the same every call."""
    jitter = get_embedder("dlib-resnet", tta="jitter", batch_size=3)
    assert jitter.model_id == "dlib-resnet+jitter8"
    views = jitter.embed_views(dlib_chips[:4])
    assert views.shape == (4, 8, 128)
    assert np.abs(views[:, 0] - embedder.embed(dlib_chips[:4]).vectors).max() < 1e-5
    flip = get_embedder("dlib-resnet", tta="flip").embed(dlib_chips[:4])
    assert np.abs(views[:, :2].mean(axis=1) - flip.vectors).max() < 1e-5
    vectors = jitter.embed(dlib_chips[:4])
    assert vectors.model == "dlib-resnet+jitter8"
    assert np.array_equal(vectors.vectors, jitter.embed(dlib_chips[:4]).vectors)  # fixed views: reproducible
    # the jittered views are the same face: close to the plain vector, not equal to it
    moved = np.linalg.norm(views[:, 2:] - views[:, :1], axis=2)
    assert 0.01 < moved.min() and moved.max() < 0.3
    d = vectors.distances(vectors)
    assert d[0, 1] < 0.55 < d[0, 2:].min()  # Abel Pacheco twice vs others, at the FMR 1e-3 distance


def test_models_are_never_mixed(dlib_chips, embedder):
    plain = embedder.embed(dlib_chips[:1])
    flipped = get_embedder("dlib-resnet", flip=True).embed(dlib_chips[:1])
    with pytest.raises(EmbeddingMismatchError, match="dlib-resnet\\+flip"):
        plain.distances(flipped)
    with pytest.raises(EmbeddingMismatchError, match="jitter8"):
        get_embedder("dlib-resnet", tta="jitter").embed(dlib_chips[:1]).distances(flipped)
    with pytest.raises(EmbeddingMismatchError):
        plain.distances(Embeddings(np.zeros((1, 1024)), "faceres"))


def test_wrong_crop_size_is_a_shape_error(embedder):
    with pytest.raises(ShapeError, match="150, 150, 3"):
        embedder.embed(np.zeros((1, 112, 112, 3), np.uint8))


def test_converter_rejects_truncated_and_foreign_files(tmp_path):
    from mien.convert.dlib_resnet import convert, parse
    from mien.errors import ConversionError

    data = model_path("dlib-resnet").read_bytes()
    net = parse(data)
    assert net.chip_size == (150, 150) and [round(m, 3) for m in net.mean_rgb] == [122.782, 117.001, 104.298]
    assert sum(layer.kind == "con" for layer in net.layers) == 29
    with pytest.raises(ConversionError, match="ends early"):
        parse(data[: len(data) // 2])
    with pytest.raises(ConversionError):
        parse(model_path("dlib-shape5").read_bytes())
    bad = tmp_path / "bad.dat"
    bad.write_bytes(data[:1000])
    with pytest.raises(ConversionError):
        convert(bad, tmp_path / "out.onnx")


def test_tta_embeddings_carry_their_views_spread(data_dir, dlib_chips, embedder):
    """spread = mean distance of the views to their mean; none without views; larger for degraded faces."""
    import cv2

    from mien.embed.base import view_spread
    from mien.match import embed_image

    jitter = get_embedder("dlib-resnet", tta="jitter")
    out = jitter.embed(dlib_chips[:4])
    assert np.allclose(out.spread, view_spread(jitter.embed_views(dlib_chips[:4]), "euclidean"), atol=1e-6)
    assert out[1].spread.shape == (1,) and out[1].spread[0] == out.spread[1]
    assert Embeddings.concat([out[0], out[1]]).spread.tolist() == out.spread[:2].tolist()
    assert embedder.embed(dlib_chips[:4]).spread is None
    with pytest.raises(ShapeError):
        Embeddings(out.vectors, out.model, out.metric, out.spread[:2])
    flip = get_embedder("dlib-resnet", tta="flip")
    clean, coarse = [], []
    for path in sorted((data_dir / "lfw" / "images").glob("*.jpg"))[:400:40]:
        image = load_image(path)
        h, w = image.shape[:2]
        small = cv2.resize(cv2.resize(image, (w // 6, h // 6), interpolation=cv2.INTER_AREA), (w, h))
        clean.append(embed_image(image, flip, largest=True).spread[0])
        coarse.append(embed_image(small, flip, largest=True).spread[0])
    assert np.mean(coarse) > np.mean(clean) * 1.05, (clean, coarse)

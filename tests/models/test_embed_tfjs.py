"""faceres and mobileface (TF.js models converted by mien) embed real LFW faces sensibly."""

from __future__ import annotations

import numpy as np
import pytest

from mien.detect import get_detector
from mien.embed import get_embedder
from mien.image import load_image

NAMES = ["Abel_Pacheco_0001", "Abel_Pacheco_0004", "Akhmed_Zakayev_0001", "Amber_Tamblyn_0001", "Abdullah_Gul_0001"]


@pytest.fixture(scope="module")
def faces(data_dir):
    detector = get_detector("centerface")
    out = []
    for name in NAMES:
        image = load_image(data_dir / "lfw" / "images" / f"{name}.jpg")
        out.append((image, detector.detect(image).largest()))
    return out


@pytest.mark.parametrize("name,dim,size", [("faceres", 1024, 224), ("mobileface", 256, 112)])
def test_same_person_is_nearest(faces, name, dim, size):
    embedder = get_embedder(name)
    crops = np.concatenate([embedder.align(image, face).crops for image, face in faces])
    assert crops.shape == (len(NAMES), size, size, 3)
    emb = embedder.embed(crops)
    assert emb.vectors.shape == (len(NAMES), dim) and emb.model == name and emb.metric == "cosine"
    d = emb.distances(emb)
    assert d[0, 1] < d[0, 2:].min()  # Abel Pacheco's second photo is the closest
    # batching does not change the result
    one = embedder.embed(crops[:1]).vectors
    assert np.abs(one - emb.vectors[:1]).max() < 1e-3 * np.abs(one).max()

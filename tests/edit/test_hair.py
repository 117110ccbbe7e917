"""Hair masks on the validation split of hair_celebamask, hair colour, and the converter's
transposed convolution that the person segmentation model needs."""

from __future__ import annotations

import base64
import csv
import json

import numpy as np
import pytest

from mien.convert import tfjs
from mien.edit.colour import parse_colour
from mien.edit.colour_match import to_lab
from mien.edit.face import find_face
from mien.edit.hair import hair_mask, recolour_hair
from mien.errors import UnknownModelError
from mien.image import load_image
from mien.models.runtime import make_session


def _attr_s(text: str) -> dict:
    return {"s": base64.b64encode(text.encode()).decode()}


@pytest.mark.parametrize("k,padding", [(2, "SAME"), (3, "SAME"), (2, "VALID")])
def test_conv2d_backprop_input_matches_a_reference(tmp_path, k, padding):
    rng = np.random.default_rng(k)
    cin, cout, size, s = 3, 2, 5, 2
    filt = rng.normal(size=(k, k, cout, cin)).astype(np.float32)
    out_size = size * s if padding == "SAME" else (size - 1) * s + k
    sizes = np.array([1, out_size, out_size, cout], np.int32)
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "-1"}, {"size": str(size)},
                                                                              {"size": str(size)}, {"size": str(cin)}]}},
                                                    "dtype": {"type": "DT_FLOAT"}}},
        {"name": "sizes", "op": "Const"}, {"name": "filter", "op": "Const"},
        {"name": "up", "op": "Conv2DBackpropInput", "input": ["sizes", "filter", "x"],
         "attr": {"padding": _attr_s(padding), "data_format": _attr_s("NHWC"),
                  "strides": {"list": {"i": ["1", str(s), str(s), "1"]}}, "dilations": {"list": {"i": ["1", "1", "1", "1"]}}}},
    ]
    weights = [{"name": "sizes", "shape": [4], "dtype": "int32"}, {"name": "filter", "shape": list(filt.shape), "dtype": "float32"}]
    (tmp_path / "tiny.bin").write_bytes(sizes.tobytes() + filt.tobytes())
    (tmp_path / "tiny.json").write_text(json.dumps({"format": "graph-model", "modelTopology": {"node": nodes},
                                                    "weightsManifest": [{"paths": ["tiny.bin"], "weights": weights}]}))
    tfjs.convert(tmp_path / "tiny.json", tmp_path / "tiny.onnx")
    x = rng.normal(size=(1, size, size, cin)).astype(np.float32)
    session = make_session(str(tmp_path / "tiny.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    # TF's definition: the gradient of a strided convolution with this filter
    pad = (k - s) // 2 if padding == "SAME" else 0
    full = np.zeros((1, (size - 1) * s + k, (size - 1) * s + k, cout), np.float32)
    for iy in range(size):
        for ix in range(size):
            full[0, iy * s:iy * s + k, ix * s:ix * s + k] += np.einsum("c,hwoc->hwo", x[0, iy, ix], filt)
    want = full[:, pad:pad + out_size, pad:pad + out_size]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)


@pytest.fixture(scope="module")
def val(data_dir):
    root = data_dir / "hair_celebamask"
    rows = [r for r in csv.DictReader(open(root / "labels.csv")) if r["split"] == "val"][:12]
    out = []
    for r in rows:
        img = load_image(root / r["image"])
        out.append((img, np.asarray(load_image(root / r["mask"]))[..., 0] > 127, find_face(img, largest=True)))
    return out


def iou(a, b):
    return (a & b).sum() / max(1, (a | b).sum())


def test_segmentation_hair_mask_beats_grabcut_alone(val):
    seg = [iou(hair_mask(img, face).binary, gt) for img, gt, face in val]
    cut = [iou(hair_mask(img, face, "grabcut").binary, gt) for img, gt, face in val]
    assert np.median(seg) > 0.5, seg
    assert np.mean(seg) > np.mean(cut)


def test_hair_colour_changes_the_hair_not_the_face(val):
    img, gt, face = val[1]
    out, mask = recolour_hair(img, face, parse_colour("#2060ff"), 0.9)
    lab_in, lab_out = to_lab(img), to_lab(out)
    hair = mask.binary & gt
    assert (lab_out[..., 2][hair] - lab_in[..., 2][hair]).mean() < -10  # bluer
    from mien.landmarks.regions import polygon_mask, LIPS_OUTER

    lips = polygon_mask(img.shape, face.xy, LIPS_OUTER) > 0
    assert np.abs(out[lips].astype(int) - img[lips]).max() <= 1
    with pytest.raises(UnknownModelError, match="segmentation"):
        hair_mask(img, face, "magic")


def test_cli_hair_colour(cli, data_dir, tmp_path):
    src = data_dir / "hair_celebamask" / "images" / "celeb_27636.jpg"
    code, doc, _ = cli("tryon", src, "--hair-colour", "copper", "-o", tmp_path / "h.png", "--json")
    assert code == 0 and doc["hair"]["hex"] == "#b85a2d"

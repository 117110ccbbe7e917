"""Age and gender heads mien trained on UTKFace, on top of other networks' features.

RESEARCH USE ONLY: the heads were fitted on UTKFace, whose licence is non-commercial
research, and use faceres's outputs (trained on VGGFace2, research only); the other
features under them are CC0 (Cydral's dlib age and gender networks, dlib's ResNet
descriptor). The CC0 ``dlib-age`` / ``dlib-gender`` stay mien's defaults; ask for
these by name (``utk-age``, ``utk-gender``; ``mien analyze --attributes utk-age,utk-gender``).

Features, per face: one dlib 5-point shape (as ``dlib_chips`` finds it), then three chips
cut from it (``face_chips``, ``chip_features``): 64 px for ``dlib-age`` (its 256-D pooled
layer and 81 age probabilities), 32 px for ``dlib-gender`` (its 16-D hidden layer and 2
probabilities), 150 px for ``dlib-resnet-onnx`` (128-D). Each network also sees the mirrored
chip, and the two results are averaged (test-time flip). Heads whose parts start with
``fr_`` also use ``faceres`` (research-only, VGGFace2) on its own crop (``faceres_features``):
its P(male), 100 age probabilities and 1024-D descriptor. The heads (``mien/attributes/heads/utk_heads.npz``,
made by ``benchmarks/attributes_heads.py --fit``; model card beside it) are small numpy
models on the standardised features: logistic regression for gender, a one-hidden-layer
network or ridge regression for age, as the file says.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np

from ...errors import ModelError
from ...models.runtime import dlib_shape_predictor, make_session, onnx_session
from ...models.store import model_path
from ...types import Faces
from ..base import AttributeModel, Classifier, Prediction
from ..chips import _face_region, hog_boxes
from ..dlib_age import AGE_WEIGHTS, dlib_input

HEADS = "utk-heads"
# network -> (chip size, chip padding, extra ONNX output with the layer before the classifier)
_NETS = {"dlib-age": (64, 0.2, "layer_1_flatten"), "dlib-gender": (32, 0.2, "layer_3_relu")}
RESNET_CHIP = (150, 0.25)


@lru_cache(maxsize=None)
def _session_with_features(name: str) -> Any:
    """An onnxruntime session for a dlib attribute network that also returns its last hidden layer."""
    import onnx

    model = onnx.load(str(model_path(name)))
    extra = _NETS[name][2]
    model.graph.output.append(onnx.helper.make_tensor_value_info(extra, onnx.TensorProto.FLOAT, None))
    return make_session(model.SerializeToString())


def face_chips(image: np.ndarray, faces: Faces) -> dict[str, np.ndarray]:
    """The 64, 32 and 150 px dlib chips of every face, from one 5-point shape per face."""
    import dlib

    sp = dlib_shape_predictor("dlib-shape5")
    sizes = {"dlib-age": _NETS["dlib-age"][:2], "dlib-gender": _NETS["dlib-gender"][:2], "resnet": RESNET_CHIP}
    chips: dict[str, list] = {k: [] for k in sizes}
    for box in hog_boxes(faces):
        region, (x0, y0, x1, y1) = _face_region(image, box)
        shape = sp(region, dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1))))
        for key, (size, padding) in sizes.items():
            chips[key].append(dlib.extract_image_chip(region, dlib.get_face_chip_details(shape, size, padding)))
    return {k: np.stack(v).astype(np.uint8) for k, v in chips.items()}


def chip_features(chips: dict[str, np.ndarray], resnet: bool = True) -> dict[str, np.ndarray]:
    """Network outputs for chips and their mirrors, each (N, 2, D): [:, 0] chip, [:, 1] mirror.

    Keys: ``age_p`` (81 probabilities), ``age_f`` (256-D pool), ``gen_p`` (2), ``gen_f`` (16),
    and with ``resnet`` also ``res`` (128-D dlib descriptor).
    """
    out = {}
    for name, key in (("dlib-age", "age"), ("dlib-gender", "gen")):
        x = chips[name]
        n = len(x)
        session = _session_with_features(name)
        probs, hidden = session.run(None, {session.get_inputs()[0].name: dlib_input(np.concatenate([x, x[:, :, ::-1]]), name)})
        out[f"{key}_p"] = np.stack([probs[:n], probs[n:]], 1)
        out[f"{key}_f"] = np.stack([hidden[:n], hidden[n:]], 1)
    if resnet:
        x = chips["resnet"]
        n = len(x)
        e = onnx_session("dlib-resnet-onnx").run(["embedding"], {"input": np.concatenate([x, x[:, :, ::-1]]).astype(np.float32)})[0]
        out["res"] = np.stack([e[:n], e[n:]], 1)
    return out


def faceres_features(image: np.ndarray, faces: Faces) -> dict[str, np.ndarray]:
    """faceres outputs, each (N, 1, D) like ``chip_features`` (one view, no mirror): ``fr_g``
    P(male), ``fr_a`` 100 age probabilities, ``fr_d`` the 1024-D descriptor."""
    from ..faceres import run_faceres

    out = run_faceres(image, faces)
    return {"fr_g": out["gender"][:, None, None], "fr_a": out["age"][:, None], "fr_d": out["descriptor"][:, None]}


def feature_matrix(raw: dict[str, np.ndarray], parts: tuple[str, ...], flip: bool = True) -> np.ndarray:
    """(N, D) float64 from ``chip_features`` (and ``faceres_features``) output: the named parts,
    mirror-averaged when ``flip``.

    Parts: ``age_f``, ``gen_f``, ``res``, ``fr_d`` as computed; ``age_e`` the dlib age
    expectation / 10; ``age_lp`` log age probabilities; ``gen_l`` dlib-gender's male log-odds;
    ``fr_lp`` faceres's log age probabilities; ``fr_l`` its male log-odds.
    """
    cols = []
    for part in parts:
        if part == "age_e":
            v = (raw["age_p"] @ AGE_WEIGHTS)[..., None] / 10
        elif part in ("age_lp", "fr_lp"):
            v = np.log(raw["age_p" if part == "age_lp" else "fr_a"].astype(np.float64) + 1e-4)
        elif part == "gen_l":
            g = raw["gen_p"].astype(np.float64)
            v = np.log(g[..., 1:] + 1e-6) - np.log(g[..., :1] + 1e-6)
        elif part == "fr_l":
            g = raw["fr_g"].astype(np.float64)
            v = np.log(g + 1e-6) - np.log(1 - g + 1e-6)
        else:
            v = raw[part]
        cols.append(v.mean(1) if flip else v[:, 0])
    return np.concatenate(cols, 1).astype(np.float64)


def mlp(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Dense layers with ReLU between them (none after the last)."""
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i < len(layers) - 1:
            x = np.maximum(x, 0)
    return x


def dlib_age(raw: dict[str, np.ndarray]) -> np.ndarray:
    """dlib-age's expected age, chip and mirror averaged."""
    return raw["age_p"].astype(np.float64).mean(1) @ AGE_WEIGHTS


def decode_age(y: np.ndarray, raw: dict[str, np.ndarray], target: str) -> np.ndarray:
    """The head's output in years, for targets "age", "log1p" and "resid" (age - dlib-age)."""
    if target == "resid":
        return y + dlib_age(raw)
    return np.expm1(y) if target == "log1p" else y


class Heads:
    """The fitted heads, loaded from the bundled ``utk-heads`` file."""

    def __init__(self, path: str | None = None) -> None:
        try:
            with np.load(path or model_path(HEADS), allow_pickle=False) as f:
                data = {k: f[k] for k in f.files}
            self.parts = {t: tuple(str(p) for p in data[f"{t}_parts"]) for t in ("age", "gender")}
            self.layers = {t: [(data[f"{t}_w{i}"], data[f"{t}_b{i}"]) for i in range(int(data[f"{t}_layers"]))]
                           for t in ("age", "gender")}
            self.norm = {t: (data[f"{t}_mean"], data[f"{t}_scale"]) for t in ("age", "gender")}
            self.age_target = str(data["age_target"])
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{HEADS}: cannot read the head weights at {path or model_path(HEADS)} ({exc})") from exc
        self.resnet = any("res" in p for p in self.parts.values())
        self.faceres = any(q.startswith("fr_") for p in self.parts.values() for q in p)

    def _head(self, task: str, raw: dict[str, np.ndarray]) -> np.ndarray:
        mean, scale = self.norm[task]
        return mlp(self.layers[task], (feature_matrix(raw, self.parts[task]) - mean) / scale)[:, 0]

    def age(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        """Years. Target "resid": the head predicts the correction to dlib-age's own (mirror-averaged) age."""
        return decode_age(self._head("age", raw), raw, self.age_target)

    def male_probability(self, raw: dict[str, np.ndarray]) -> np.ndarray:
        return 1 / (1 + np.exp(-self._head("gender", raw)))


@lru_cache(maxsize=1)
def load_heads() -> Heads:
    return Heads()


class _FeatureCache:
    """Features of the last image and faces seen, so the age and gender heads share one pass.

    One (key, features) tuple, replaced whole, so threads never pair one key with another's features.
    """

    last: tuple[bytes, dict[str, np.ndarray]] | None = None

    @classmethod
    def get(cls, image: np.ndarray, faces: Faces, heads: Heads) -> dict[str, np.ndarray]:
        h = hashlib.blake2b(digest_size=16)
        for a in (image, faces.boxes, np.array([heads.resnet, heads.faceres])):
            h.update(np.ascontiguousarray(a).tobytes())
            h.update(str(a.shape).encode())
        key, last = h.digest(), cls.last
        if last is not None and last[0] == key:
            return last[1]
        value = chip_features(face_chips(image, faces), heads.resnet)
        if heads.faceres:
            value.update(faceres_features(image, faces))
        cls.last = (key, value)
        return value


class UtkAge(AttributeModel):
    """Age in years from the UTKFace-trained head (research use only)."""

    task = "age"
    model = HEADS

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        """(N, 2): the age in years, and the peak of dlib-age's class distribution (mirror-averaged)."""
        heads = load_heads()
        raw = _FeatureCache.get(image, faces, heads)
        return np.stack([np.clip(heads.age(raw), 0, 116), raw["age_p"].mean(1).max(1)], axis=1)

    def from_probabilities(self, probs: np.ndarray) -> list[Prediction]:
        # a regression head has no class probability: report how peaked dlib-age's own distribution is
        return [Prediction(self.task, float(a), float(p), self.model) for a, p in np.asarray(probs, np.float64)]


class UtkGender(Classifier):
    """Female / male from the UTKFace-trained head (research use only)."""

    task = "gender"
    model = HEADS
    labels = ("female", "male")

    def probabilities(self, image: np.ndarray, faces: Faces) -> np.ndarray:
        heads = load_heads()
        male = heads.male_probability(_FeatureCache.get(image, faces, heads))
        return np.stack([1 - male, male], axis=1)

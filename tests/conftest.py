"""Shared fixtures: where the data lives, and the sample photo from the model store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The labelled face data: $MIEN_DATA, else ../shared/data beside the repo."""
    return Path(os.environ.get("MIEN_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    root = data_root()
    if not root.is_dir():
        pytest.fail(f"face data not found at {root}; set MIEN_DATA")
    return root


@pytest.fixture(scope="session")
def group_photo():
    """The six-face group photo from the insightface wheel, via the model store."""
    from mien.image import load_image
    from mien.models.store import model_path

    return load_image(model_path("sample-group"))


@pytest.fixture(scope="session")
def lfw_image(data_dir):
    from mien.image import load_image

    return load_image(data_dir / "lfw" / "images" / "Abel_Pacheco_0001.jpg")

"""Shared fixtures for the face3d tests: one lifter (models load once) and a few LFW photos."""

from __future__ import annotations

import cv2
import pytest


@pytest.fixture(scope="session")
def lifter():
    from mien.face3d.capture import FaceLifter

    return FaceLifter()


@pytest.fixture(scope="session")
def lfw_dir(data_dir):
    return data_dir / "lfw" / "images"


@pytest.fixture(scope="session")
def big_face(lfw_dir):
    """An LFW photo enlarged 3x (450 px), so that a few percent of a nose is several pixels."""
    from mien.image import load_image

    image = load_image(lfw_dir / "Aaron_Peirsol_0001.jpg")
    return cv2.resize(image, (450, 450), interpolation=cv2.INTER_CUBIC)

"""LFW photos for the editing tests, and the CLI run in-process."""

from __future__ import annotations

import json

import pytest

from mien.cli import main

PEOPLE = ("Aaron_Eckhart_0001", "AJ_Lamas_0001", "Aaron_Guiel_0001", "Abel_Pacheco_0001", "Colin_Powell_0040",
          "Angelina_Jolie_0001")


@pytest.fixture(scope="session")
def lfw(data_dir):
    return data_dir / "lfw" / "images"


@pytest.fixture(scope="session")
def photo(lfw):
    from mien.image import load_image

    return lambda name: load_image(lfw / f"{name}.jpg")


@pytest.fixture
def cli(capsys):
    """Run ``mien ARGS`` in this process: (exit code, parsed JSON stdout or text, stderr)."""
    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        try:
            doc = json.loads(out)
        except ValueError:
            doc = out
        return code, doc, err

    return run

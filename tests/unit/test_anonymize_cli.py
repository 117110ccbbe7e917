"""``mien anonymize`` argument checks that need no weights."""

from mien.cli import main


def test_output_folder_or_in_place_is_required(tmp_path, capsys):
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert main(["anonymize", str(tmp_path / "a.jpg")]) == 2
    assert "-o OUTDIR" in capsys.readouterr().err


def test_videos_cannot_be_anonymised_in_place(tmp_path, capsys):
    (tmp_path / "clip.mp4").write_bytes(b"x")
    assert main(["anonymize", str(tmp_path / "clip.mp4"), "--in-place"]) != 0
    assert "in place" in capsys.readouterr().err


def test_refuses_to_overwrite_the_input(tmp_path, capsys):
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert main(["anonymize", str(tmp_path / "a.jpg"), "-o", str(tmp_path)]) == 2
    assert "overwrite" in capsys.readouterr().err


def test_unknown_method_is_a_usage_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    assert main(["anonymize", str(tmp_path / "a.jpg"), "-o", str(tmp_path / "out"), "--method", "swirl"]) == 2


def test_detect_size_is_refused_for_a_detector_that_cannot_resize(tmp_path, capsys):
    (tmp_path / "a.jpg").write_bytes(b"x")
    args = ["anonymize", str(tmp_path / "a.jpg"), "-o", str(tmp_path / "out"), "--detector", "dlib-hog"]
    assert main([*args, "--detect-size", "640"]) == 2
    assert "detect size applies to centerface" in capsys.readouterr().err
    assert main([*args[:-2], "--detect-size", "16"]) == 2, "below 32 px is a usage error"


def test_cli_video_defaults_are_the_library_defaults():
    from mien.anonymize.video import DEFAULT_EVERY
    from mien.cli.anonymize import DEFAULT_EVERY as CLI_EVERY
    from mien.cli.anonymize import anonymize

    every = next(p for p in anonymize.params if p.name == "every")
    assert CLI_EVERY == every.default == DEFAULT_EVERY

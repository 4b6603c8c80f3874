"""The timing script runs end to end on a tiny image (numbers themselves are not asserted)."""

from __future__ import annotations

from portraitsr4k.image_io import decode, probe
from portraitsr4k.image_io.timing import main, run, synthetic_jpeg


def test_synthetic_jpeg_is_a_photo_like_jpeg() -> None:
    data = synthetic_jpeg(48, 64, seed=1)
    assert data == synthetic_jpeg(48, 64, seed=1)
    info = probe(data)
    assert info.format == "JPEG" and (info.width, info.height) == (64, 48)
    assert decode(data).rgb.std() > 10  # not flat


def test_run_reports_every_operation(capsys) -> None:
    rows = run(48, 64, repeats=1)
    assert len(rows) == 10 and all(wall >= 0 and cpu >= 0 for _, wall, cpu in rows)
    main(["--height", "32", "--width", "48", "--repeats", "1", "--encode"])
    out = capsys.readouterr().out
    assert "48x32 JPEG" in out and "image_io.decode reduce=8" in out and "encode_png level 1" in out

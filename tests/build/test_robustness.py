"""One bad input never stops the run; errors past max_error_share abort loudly; worker counts
and input order do not change a single byte; a crashing worker costs only its own sample."""

from __future__ import annotations

import functools
import io
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from build_helpers import make_builder, shard_hashes
from photo_sources import MissingFileSource, abort_on_negative
from PIL import Image

from portraitsr4k.build.executors import LocalExecutor
from portraitsr4k.build.runner import Builder, BuildError, BuildSettings
from portraitsr4k.sample_photos import locate
from portraitsr4k.stages.analyze import Analyzer
from portraitsr4k.stages.crop import CropSettings
from portraitsr4k.stages.embed import EmbedSettings
from portraitsr4k.stages.faces import FaceSettings
from portraitsr4k.stages.gate import GateSettings
from portraitsr4k.stages.materialize import Materializer
from portraitsr4k.stages.quality import QualitySettings


def _png_with_header(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR claims ``width`` x ``height`` (a decompression bomb header)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def _bad_folder(root: Path, outside: Path) -> Path:
    photo = Image.open(locate("grace_hopper")).convert("RGB")
    jpeg = locate("grace_hopper").read_bytes()
    root.mkdir()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (root / "bomb.png").write_bytes(_png_with_header(100_000, 100_000))
    (root / "zero.jpg").write_bytes(b"")
    photo.convert("CMYK").save(root / "cmyk.jpg", quality=95)
    gray16 = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257)
    Image.fromarray(gray16).save(root / "gray16.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display needs a 90 degree turn
    photo.transpose(Image.Transpose.ROTATE_90).save(root / "rotated.jpg", quality=95, exif=exif)
    (root / "text.jpg").write_text("this is not an image\n")
    outside.write_bytes(jpeg)
    (root / "link_out.jpg").symlink_to(outside)
    return root


def _folder_builder(root: Path, out: Path) -> Builder:
    import degradations

    from portraitsr4k.faces import build_detector
    from portraitsr4k.identity import build_embedder
    from portraitsr4k.sources import FolderSource

    source = FolderSource(root)
    analyzer = Analyzer(source=source, gate=GateSettings(relax_size=True), faces=FaceSettings(),
                        quality=QualitySettings(), embed=EmbedSettings(),
                        detector_factory=functools.partial(build_detector, "mtcnn", min_score=0.95),
                        embedder_factory=functools.partial(build_embedder, "dlib"), relaxed=True)
    materializer = Materializer(source=source, crop=CropSettings(), scale=4, build_seed=0,
                                degradation_factory=functools.partial(degradations.build, "realesrgan", scale=4))
    return Builder(source=source, analyzer=analyzer, materializer=materializer, executor=LocalExecutor(workers=0),
                   settings=BuildSettings(out_dir=out), config={"test": "bad inputs"})


def test_bad_inputs_give_one_status_row_each_and_no_crash(tmp_path):
    root = _bad_folder(tmp_path / "bad", tmp_path / "outside.jpg")
    summary = _folder_builder(root, tmp_path / "out").run()
    status = {r["key"]: r for r in pq.read_table(tmp_path / "out" / "status" / "samples.parquet").to_pylist()}
    assert sorted(status) == sorted(f"folder:{p.name}" for p in root.iterdir())
    assert status["folder:truncated.jpg"]["status"] == "rejected:truncated"
    assert status["folder:bomb.png"]["status"] == "rejected:bomb"
    assert status["folder:zero.jpg"]["status"] == "rejected:empty"
    assert status["folder:text.jpg"]["status"].startswith("rejected:")
    assert status["folder:link_out.jpg"]["status"] == "rejected:symlink_outside_root"
    # The decodable variants of the portrait are real photos: one is kept, the others are
    # perceptual duplicates of it (CMYK, 16-bit gray and EXIF-rotated copies of one face).
    decodable = [status[f"folder:{n}"]["status"] for n in ("cmyk.jpg", "gray16.png", "rotated.jpg")]
    assert all(s == "ok" or s.startswith("rejected:") for s in decodable), decodable
    assert not [r for r in status.values() if r["status"].startswith("error:")]
    assert all(r["message"] for r in status.values() if r["status"] != "ok")
    assert "total" in summary.table()


def test_rotated_photo_is_stored_upright_as_png(tmp_path):
    root = _bad_folder(tmp_path / "bad", tmp_path / "outside.jpg")
    for name in ("cmyk.jpg", "gray16.png"):
        (root / name).unlink()  # leave the rotated copy as the only decodable portrait
    _folder_builder(root, tmp_path / "out").run()
    rows = [r for f in (tmp_path / "out" / "data").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert [r["source"] for r in rows] == ["folder:rotated.jpg"]
    assert rows[0]["hr_format"] == "png"  # orientation changed the pixels: not the source bytes
    assert (rows[0]["hr_width"], rows[0]["hr_height"]) == (512, 600)  # display frame, upright


def test_error_share_above_limit_aborts_with_status_rows(tmp_path):
    source = MissingFileSource("3")
    builder = make_builder(tmp_path, tmp_path / "out")
    builder.source = builder.analyzer.source = builder.materializer.source = source
    with pytest.raises(BuildError, match=r"3 of 3 samples ended in error"):
        builder.run()
    rows = pq.read_table(tmp_path / "out" / "status" / "samples.parquet").to_pylist()
    assert [r["status"] for r in rows] == ["error:io"] * 3


def test_worker_crash_costs_only_its_own_input():
    """A function that kills its worker (os.abort, like a codec segfault) on one input: that
    input gets on_crash, every other input its result, in a real 2-process pool. ``fork`` keeps
    this test fast (no re-import of torch per worker); the crash handling does not depend on the
    start method, and the slow test below runs it with ``spawn``."""
    executor = LocalExecutor(workers=2, start_method="fork")
    items = [3, 1, -1, 2, 5, 4]
    results = dict(executor.map(abort_on_negative, items, desc="test",
                                on_crash=lambda item, message: f"crash {item}"))
    assert results == {0: 9, 1: 1, 2: "crash -1", 3: 4, 4: 25, 5: 16}


def test_two_workers_reversed_order_and_a_crashing_input_give_identical_shards(clean_build, portrait_dir, tmp_path):
    """workers=2 in a process pool, items listed in reverse, plus one input whose fetch kills
    its worker (os.abort): the crash becomes error:worker_crash for that input only, and every
    shard is byte-identical to the in-process clean build (default ``forkserver`` workers)."""
    src = tmp_path / "src"
    shutil.copytree(portrait_dir, src)
    (src / "zz_crash.jpg").write_bytes(b"never read")
    out = tmp_path / "out"
    summary = make_builder(src, out, workers=2, order="reversed", crash_on="zz_crash.jpg",
                           max_error_share=0.5).run()
    assert shard_hashes(out) == shard_hashes(clean_build[0])
    by_key = {r.key: r.status for r in summary.records}
    assert by_key.pop("zz_crash.jpg") == "error:worker_crash"
    assert set(by_key.values()) == {"ok"}

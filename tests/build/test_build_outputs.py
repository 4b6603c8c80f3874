"""Must-show of a build of the shipped portraits: loadable splits, exact x4 LQ, faces with
landmarks, replayable degradation records, status rows, manifest."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq


def test_load_dataset_gives_both_splits_with_decodable_images(clean_build):
    import datasets

    out, summary = clean_build
    ds = datasets.load_dataset("parquet", data_dir=str(out / "data"))
    assert set(ds) == {"train", "test"}
    assert ds["train"].num_rows >= 1 and ds["test"].num_rows >= 1
    assert ds["train"].num_rows + ds["test"].num_rows == 4
    for split in ds:
        for row in ds[split]:
            hr, lq = np.asarray(row["hr"].convert("RGB")), np.asarray(row["lq"].convert("RGB"))
            assert hr.shape == (row["hr_height"], row["hr_width"], 3)
            assert lq.shape == (row["lq_height"], row["lq_width"], 3)
            # LQ is exactly HR / 4: HR was trimmed to a multiple of the scale first.
            assert hr.shape[0] == 4 * lq.shape[0] and hr.shape[1] == 4 * lq.shape[1]
            assert row["split"] == split


def test_group_photo_has_several_faces_with_landmarks(clean_build):
    out, _ = clean_build
    rows = [r for f in sorted((out / "data").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    group = [r for r in rows if "group_t1" in r["source"]]
    assert len(group) == 1
    faces = group[0]["faces"]
    assert len(faces) >= 4
    for face in faces:
        assert len(face["landmarks"]) == 5
        x1, y1, x2, y2 = face["bbox"]
        lx, ly = face["landmarks"][0]
        assert x1 - 1 <= lx <= x2 + 1 and y1 - 1 <= ly <= y2 + 1


def test_every_degradation_record_replays_to_the_stored_lq(clean_build):
    import degradations

    from portraitsr4k import image_io
    from portraitsr4k.stages.degrade import to_tensor, to_uint8

    out, _ = clean_build
    checked = 0
    for shard in sorted((out / "data").glob("*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            hr = image_io.decode(row["hr"]["bytes"]).rgb
            lq = image_io.decode(row["lq"]["bytes"]).rgb
            replayed = to_uint8(degradations.replay(to_tensor(hr), json.loads(row["degradation"])))
            np.testing.assert_array_equal(replayed, lq)
            checked += 1
    assert checked == 4


def test_hr_bytes_are_source_bytes_when_no_pixel_changes(clean_build, portrait_dir):
    out, _ = clean_build
    rows = {r["source"].split(":", 1)[1]: r for f in sorted((out / "data").glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()}
    grace = rows["grace_hopper.jpg"]  # 512x600: already a multiple of 4, plain sRGB JPEG
    assert grace["hr_format"] == "source"
    assert grace["hr"]["bytes"] == (portrait_dir / "grace_hopper.jpg").read_bytes()
    # 1280x886: 886 is not a multiple of 4 -> trimmed at the bottom; the offset stays (0, 0), on
    # the iMCU grid, so the HR is a lossless crop of the source JPEG (its DCT blocks, no re-encode).
    group = rows["group_t1.jpg"]
    assert group["hr_format"] == "jpeg_crop" and (group["hr_width"], group["hr_height"]) == (1280, 884)
    assert group["hr"]["path"].endswith(".jpg")


def test_status_has_one_row_per_input_and_manifest_lists_every_shard(clean_build, portrait_dir):
    from portraitsr4k.dataset.manifest import read_manifest
    from portraitsr4k.dataset.writer import file_sha256

    out, summary = clean_build
    status = pq.read_table(out / "status" / "samples.parquet").to_pylist()
    assert sorted(r["key"] for r in status) == sorted(p.name for p in portrait_dir.iterdir())
    assert all(r["status"] == "ok" and r["split"] in ("train", "test") for r in status)
    assert all(json.loads(r["timings"])["faces"] > 0 for r in status)
    manifest = read_manifest(out)
    files = sorted(p.relative_to(out).as_posix() for p in (out / "data").glob("*.parquet"))
    assert sorted(k for k in manifest.shards if k.startswith("data/")) == files
    for name, entry in manifest.shards.items():
        assert file_sha256(out / name) == entry.sha256
    assert "ok" in summary.table()


def test_identity_split_is_disjoint(clean_build):
    out, _ = clean_build
    by_split: dict[str, set[int]] = {}
    for shard in sorted((out / "data").glob("*.parquet")):
        for row in pq.read_table(shard, columns=["identity", "split"]).to_pylist():
            by_split.setdefault(row["split"], set()).add(row["identity"])
    assert not (by_split["train"] & by_split["test"]) - {-1}


def test_no_temporary_files_left_in_data(clean_build):
    out, _ = clean_build
    assert [p.name for p in (out / "data").iterdir() if not p.name.endswith(".parquet")] == []

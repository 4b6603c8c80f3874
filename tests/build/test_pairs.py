"""Reference pairs: the same person in two different photos gives a pairs/ file and references."""

from __future__ import annotations

import pyarrow.parquet as pq
from build_helpers import make_builder
from PIL import Image, ImageOps

from portraitsr4k.sample_photos import locate


def test_same_person_in_two_photos_makes_reference_pairs(tmp_path):
    import datasets

    src = tmp_path / "src"
    src.mkdir()
    grace = Image.open(locate("grace_hopper")).convert("RGB")
    grace.save(src / "grace_a.png")
    ImageOps.mirror(grace).save(src / "grace_b.png")  # another "photo" of the same person
    Image.open(locate("astronaut")).convert("RGB").save(src / "astronaut.png")
    out = tmp_path / "out"
    summary = make_builder(src, out).run()
    assert {r.status for r in summary.records} == {"ok"}
    rows = {r["source"].split(":", 1)[1]: r for f in (out / "data").glob("*.parquet") for r in pq.read_table(f).to_pylist()}
    a, b = rows["grace_a.png"], rows["grace_b.png"]
    assert a["identity"] == b["identity"] != rows["astronaut.png"]["identity"]
    assert a["split"] == b["split"]  # one person never straddles the split
    assert a["references"] == [b["id"]] and b["references"] == [a["id"]]
    assert rows["astronaut.png"]["references"] == []
    pair_files = sorted((out / "pairs").glob("*.parquet"))
    assert [p.name for p in pair_files] == [f"{a['split']}-00000-of-00001.parquet"]
    pairs = pq.read_table(pair_files[0]).to_pylist()
    assert {(p["id"], p["reference_id"]) for p in pairs} == {(a["id"], b["id"]), (b["id"], a["id"])}
    assert all(p["similarity"] >= 0.9 and p["face_index"] == 0 for p in pairs)
    loaded = datasets.load_dataset("parquet", data_dir=str(out / "pairs"))
    assert loaded[a["split"]].num_rows == 2

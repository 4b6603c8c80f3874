"""Global, deterministic steps: dedup, identity clustering + pairs, split; seeds; shard plan."""

from __future__ import annotations

import random

import numpy as np
import pytest

from portraitsr4k.build.plan import ShardSettings, plan_shards
from portraitsr4k.build.seeds import sample_seed, stable_hash, torch_generator
from portraitsr4k.stages.dedup import DedupSettings, near_duplicates
from portraitsr4k.stages.identity import cluster_identities
from portraitsr4k.stages.quality import iqa_percentile_cut
from portraitsr4k.stages.split import SplitSettings, assign_splits


def test_seeds_are_stable_and_distinct():
    assert sample_seed(0, "abc", "degrade") == sample_seed(0, "abc", "degrade")
    assert len({sample_seed(0, "abc", "degrade"), sample_seed(1, "abc", "degrade"),
                sample_seed(0, "abd", "degrade"), sample_seed(0, "abc", "crop")}) == 4
    # Fixed value: a change of the derivation would silently change every LQ of every build.
    assert stable_hash(0, "abc", "degrade") == int.from_bytes(
        __import__("hashlib").sha256("0\x1fabc\x1fdegrade".encode()).digest()[:8], "big")
    assert stable_hash("ab", "c") != stable_hash("a", "bc")
    a, b = torch_generator(3, "x", "degrade"), torch_generator(3, "x", "degrade")
    assert a.initial_seed() == b.initial_seed() < 2**63
    with pytest.raises(TypeError):
        sample_seed("0", "x", "degrade")


def test_near_duplicates_keep_the_smallest_id_whatever_the_order():
    base = 0x0F0F_0F0F_0F0F_0F0F
    hashes = {"b": f"{base:016x}", "a": f"{base ^ 0b111:016x}", "c": f"{base ^ (2**64 - 1):016x}",
              "d": f"{base ^ 0b11_1111_1111:016x}"}
    dropped = near_duplicates(hashes, DedupSettings(max_distance=6))
    assert dropped == {"b": "a"}  # b is 3 bits from a; d is 7 bits from a and 10 from b; c is far
    shuffled = dict(random.Random(1).sample(sorted(hashes.items()), len(hashes)))
    assert near_duplicates(shuffled, DedupSettings(max_distance=6)) == dropped
    assert near_duplicates(hashes, DedupSettings(enabled=False)) == {}
    with pytest.raises(ValueError):
        DedupSettings(max_distance=65)


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def test_identity_clusters_link_faces_across_photos_only():
    p, q, r = _unit([1, 0, 0]), _unit([0, 1, 0]), _unit([0, 0, 1])
    embeddings = {
        "img3": [p],           # person P
        "img1": [p, q],        # group photo with P and Q
        "img2": [q * 0.99 + r * 0.01],  # Q again (cosine ~1)
        "img4": [r],           # R alone
        "img5": [],            # no face embedding
    }
    result = cluster_identities(embeddings, threshold=0.9)
    # img1, img2, img3 are one cluster (P links 1-3, Q links 1-2); numbered by smallest id.
    assert result.identity == {"img1": 0, "img2": 0, "img3": 0, "img4": 1, "img5": -1}
    assert result.units["img5"] == "img5" and result.units["img3"] == "img1"
    pairs = {(x.id, x.face_index, x.reference_id, x.reference_face_index) for x in result.pairs}
    assert pairs == {("img1", 0, "img3", 0), ("img3", 0, "img1", 0),
                     ("img1", 1, "img2", 0), ("img2", 0, "img1", 1)}
    # Two faces of one photo are never paired with each other, however similar.
    assert cluster_identities({"solo": [p, p]}, 0.5).pairs == []
    with pytest.raises(ValueError):
        cluster_identities(embeddings, threshold=1.5)


def test_split_is_disjoint_by_unit_deterministic_and_never_empty():
    units = {f"id{i:02d}": f"u{i // 3}" for i in range(30)}  # 10 clusters of 3 photos
    splits = assign_splits(units, SplitSettings(test_fraction=0.2), seed=7)
    assert splits == assign_splits(dict(reversed(list(units.items()))), SplitSettings(test_fraction=0.2), seed=7)
    for unit in set(units.values()):
        assert len({splits[i] for i, u in units.items() if u == unit}) == 1
    assert sum(s == "test" for s in splits.values()) == 6
    assert splits != assign_splits(units, SplitSettings(test_fraction=0.2), seed=8)
    # A 4-photo demo: a 10 % fraction still gives one test photo and keeps train non-empty.
    demo = assign_splits({f"d{i}": f"d{i}" for i in range(4)}, SplitSettings(test_fraction=0.1), seed=0)
    assert sorted(demo.values()) == ["test", "train", "train", "train"]
    everything = assign_splits({"a": "a", "b": "b"}, SplitSettings(test_size=5), seed=0)
    assert sorted(everything.values()) == ["test", "train"]


def test_iqa_percentile_cut_drops_the_bottom_share():
    scores = {f"s{i}": float(i) for i in range(10)}
    cut = iqa_percentile_cut(scores, 20.0)
    assert sorted(cut) == ["s0", "s1"]
    assert iqa_percentile_cut(scores, 0.0) == {}


def test_shard_plan_respects_rows_and_bytes_and_sorts_ids():
    rows = [("c", 10), ("a", 10), ("b", 400), ("d", 10)]
    plan = plan_shards("train", rows, ShardSettings(max_rows=3, max_bytes=415))
    assert [p.ids for p in plan] == [("a", "b"), ("c", "d")]
    assert [p.name for p in plan] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    assert plan_shards("test", [], ShardSettings()) == []

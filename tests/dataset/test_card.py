"""Dataset card: configs load with datasets, deterministic README and PNG bytes."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import yaml
from PIL import Image

from portraitsr4k.card import FIGURE_NAMES, write_card
from portraitsr4k.card.figures import histogram_png
from portraitsr4k.card.readme import degradation_panels


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def test_card_contents(manifested_build: Path, build_config: dict) -> None:
    path = write_card(manifested_build, build_config)
    text = path.read_text()
    meta = _front_matter(text)
    assert meta["license"] == "cc0-1.0"
    assert meta["configs"] == [
        {"config_name": "default", "default": True,
         "data_files": [{"split": "test", "path": "data/test-*"}, {"split": "train", "path": "data/train-*"}]},
        {"config_name": "pairs", "data_files": [{"split": "train", "path": "pairs/train-*"}]},
    ]
    assert "| train | 5 | 2 |" in text and "| test | 2 | 1 |" in text and "| pairs/train | 1 | 1 |" in text
    assert "| folder | CC0-1.0 | 7 |" in text
    config_block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(config_block) == build_config
    for name in FIGURE_NAMES.values():
        assert f"]({name})" in text
        with Image.open(manifested_build / name) as figure:
            assert figure.format == "PNG" and figure.width > 300


def test_card_is_byte_identical_on_rebuild(manifested_build: Path, build_config: dict) -> None:
    write_card(manifested_build, build_config)
    first = {p.name: p.read_bytes() for p in manifested_build.iterdir() if p.suffix in (".md", ".png")}
    for p in manifested_build.iterdir():
        if p.suffix in (".md", ".png"):
            p.unlink()
    write_card(manifested_build, build_config)
    second = {p.name: p.read_bytes() for p in manifested_build.iterdir() if p.suffix in (".md", ".png")}
    assert first == second and len(first) == 4
    assert b"Software" not in first[FIGURE_NAMES["faces"]]


def test_mixed_licences_use_other(manifested_build: Path, build_config: dict, make_row) -> None:
    from portraitsr4k.dataset.manifest import record_shard
    from portraitsr4k.dataset.writer import shard_name, write_shard

    row = make_row(9, split="test")
    row["license"] = "Public domain (NASA)"
    target = manifested_build / "data" / shard_name("test", 0, 1)
    record_shard(manifested_build, write_shard([row], target))
    meta = _front_matter(write_card(manifested_build, build_config).read_text())
    assert meta["license"] == "other" and "Public domain (NASA)" in meta["license_details"]


def test_load_dataset_from_card_and_data_dir(manifested_build: Path, build_config: dict) -> None:
    write_card(manifested_build, build_config)
    by_card = datasets.load_dataset(str(manifested_build))
    by_dir = datasets.load_dataset("parquet", data_dir=str(manifested_build / "data"))
    for loaded in (by_card, by_dir):
        assert sorted(loaded) == ["test", "train"]
        assert loaded["train"].num_rows == 5 and loaded["test"].num_rows == 2
        sample = loaded["test"][0]
        assert isinstance(sample["hr"], Image.Image) and isinstance(sample["lq"], Image.Image)
        assert sample["hr"].size == (64, 64) and sample["lq"].size == (16, 16)
        assert json.loads(sample["degradation"])["preset"] == "bicubic"
    pairs = datasets.load_dataset(str(manifested_build), "pairs")
    assert pairs["train"][0]["reference_id"] == f"{3:016x}"


def test_degradation_panels_pick_varying_strengths() -> None:
    panels = degradation_panels({"blur.sigma": [0.5, 1.0], "jpeg.quality": [70, 90], "preset_version": [1, 1],
                                 "a.other": [1, 2]})
    assert list(panels) == ["blur.sigma", "jpeg.quality", "a.other"]


def test_histogram_png_rejects_empty() -> None:
    with pytest.raises(ValueError, match="at least one panel"):
        histogram_png({}, title="x")
    with pytest.raises(ValueError, match="no finite values"):
        histogram_png({"a": [float("nan")]}, title="x")


def test_relaxed_gate_is_stated(manifested_build: Path, build_config: dict) -> None:
    assert "relaxed the 4K size gate" not in write_card(manifested_build, build_config).read_text()
    relaxed = {**build_config, "source": {**build_config["source"], "relax_gate": True}}
    assert "relaxed the 4K size gate" in write_card(manifested_build, relaxed).read_text()

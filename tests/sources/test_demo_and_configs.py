"""DemoSource and the conf/source YAMLs (instantiated the way the builder does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from omegaconf import OmegaConf

from portraitsr4k import sample_photos
from portraitsr4k.sources import DemoSource, FolderSource, MetadataSource, SourceItem


def test_demo_items_and_fetch() -> None:
    source = DemoSource()
    items = list(source.items())
    assert [i.key for i in items] == [f"demo:{n}" for n in sorted(sample_photos.PORTRAIT_NAMES)]
    hopper = next(i for i in items if i.key == "demo:grace_hopper")
    assert hopper.license == "public domain (US Navy photo)"
    result = source.fetch(hopper)
    assert result.status == "ok" and result.data == sample_photos.locate("grace_hopper").read_bytes()
    assert source.fetch(SourceItem(key="demo:not_a_photo")).status == "error:missing"
    with pytest.raises(ValueError, match="unknown demo photos"):
        DemoSource(["nobody"])


def _compose(*overrides: str):
    with initialize_config_module(config_module="portraitsr4k.conf", version_base="1.3"):
        return compose("build", overrides=["out_dir=/tmp/unused", *overrides])


def _instantiate(node) -> object:
    """What the builder does: drop relax_gate, then instantiate."""
    plain = OmegaConf.to_container(node, resolve=True)
    relax = plain.pop("relax_gate")
    return instantiate(OmegaConf.create(plain)), relax


def test_demo_yaml_relaxes_gate() -> None:
    source, relax = _instantiate(_compose("source=demo").source)
    assert isinstance(source, DemoSource) and relax is True
    assert source.names == tuple(sorted(sample_photos.PORTRAIT_NAMES))


def test_folder_yaml(tmp_path: Path) -> None:
    source, relax = _instantiate(_compose("source=folder", f"source.path={tmp_path}").source)
    assert isinstance(source, FolderSource) and relax is False
    assert ".jpg" in source.extensions and source.root == tmp_path.resolve()


def test_metadata_yaml_follows_gate(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = tmp_path / "meta.parquet"
    pq.write_table(pa.table({"url": ["http://127.0.0.1/x.jpg"], "width": [4000], "height": [3000],
                             "license": ["cc0"]}), table)
    cfg = _compose("source=metadata", f"source.table={table}", "stage.gate.min_long_side=5000")
    source, relax = _instantiate(cfg.source)
    assert isinstance(source, MetadataSource) and relax is False
    assert source.min_long_side == 5000 and source.min_pixels == cfg.stage.gate.min_pixels
    assert source.fetcher.opt_out_directives == ("noai", "noimageai")
    assert list(source.items()) == []  # 4000 px < the gate's 5000: prefiltered

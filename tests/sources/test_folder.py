"""FolderSource: allow-list, order, symlink policy, unreadable files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portraitsr4k.sources import FolderSource, SourceItem


@pytest.fixture
def photo_tree(tmp_path: Path, make_encoded) -> tuple[Path, Path]:
    root = tmp_path / "photos"
    outside = tmp_path / "elsewhere"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / ".cache").mkdir()
    outside.mkdir()
    (root / "b.jpg").write_bytes(make_encoded("JPEG", seed=1))
    (root / "sub" / "A.JPG").write_bytes(make_encoded("JPEG", seed=2))
    (root / "sub" / "deep" / "c.PNG").write_bytes(make_encoded("PNG", seed=3))
    (root / "notes.txt").write_text("not a photo")
    (root / ".hidden.jpg").write_bytes(make_encoded("JPEG", seed=4))
    (root / ".cache" / "thumb.jpg").write_bytes(make_encoded("JPEG", seed=5))
    (outside / "secret.jpg").write_bytes(make_encoded("JPEG", seed=6))
    os.symlink(root / "b.jpg", root / "sub" / "link_inside.jpg")
    os.symlink(outside / "secret.jpg", root / "link_outside.jpg")
    os.symlink(outside, root / "dir_outside")
    os.symlink(root / "sub", root / "dir_inside")
    os.symlink(root / "gone.jpg", root / "dangling.jpg")
    return root, outside


def test_listing_order_and_filters(photo_tree: tuple[Path, Path]) -> None:
    root, _ = photo_tree
    keys = [item.key for item in FolderSource(root).items()]
    assert keys == [
        "folder:b.jpg", "folder:dangling.jpg", "folder:dir_outside", "folder:link_outside.jpg",
        "folder:sub/A.JPG", "folder:sub/deep/c.PNG", "folder:sub/link_inside.jpg",
    ]
    shallow = [item.key for item in FolderSource(root, recursive=False, extensions=["png", ".JPG"]).items()]
    assert shallow == ["folder:b.jpg", "folder:dangling.jpg", "folder:dir_outside", "folder:link_outside.jpg"]
    hidden = [item.key for item in FolderSource(root, include_hidden=True).items()]
    assert "folder:.hidden.jpg" in hidden and "folder:.cache/thumb.jpg" in hidden


def test_fetch_statuses(photo_tree: tuple[Path, Path], make_encoded) -> None:
    root, _ = photo_tree
    source = FolderSource(root, license="CC-BY-4.0")
    results = {item.key: source.fetch(item) for item in source.items()}
    assert results["folder:b.jpg"].status == "ok"
    assert results["folder:b.jpg"].data == make_encoded("JPEG", seed=1)
    assert results["folder:sub/link_inside.jpg"].data == make_encoded("JPEG", seed=1)
    assert results["folder:link_outside.jpg"].status == "rejected:symlink_outside_root"
    assert "elsewhere" in results["folder:link_outside.jpg"].message
    assert results["folder:dir_outside"].status == "rejected:symlink_outside_root"
    assert results["folder:dangling.jpg"].status == "error:io"
    assert all(r.seconds >= 0 for r in results.values())
    assert {i.license for i in source.items()} == {"CC-BY-4.0"}


def test_unreadable_and_too_large(photo_tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = photo_tree
    item = SourceItem(key="folder:b.jpg", path=str(root / "b.jpg"))
    small = FolderSource(root, max_bytes=100)
    assert small.fetch(item).status == "rejected:too_large"

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(root / "b.jpg"))

    # Running as root here, so chmod 000 would not stop the read; deny at open() instead.
    monkeypatch.setattr("portraitsr4k.sources.folder.open", denied, raising=False)
    result = FolderSource(root).fetch(item)
    assert result.status == "error:io" and "Permission denied" in result.message


def test_file_replaced_by_outside_symlink_after_listing(photo_tree: tuple[Path, Path]) -> None:
    root, outside = photo_tree
    source = FolderSource(root)
    item = next(i for i in source.items() if i.key == "folder:b.jpg")
    (root / "b.jpg").unlink()
    os.symlink(outside / "secret.jpg", root / "b.jpg")
    assert source.fetch(item).status == "rejected:symlink_outside_root"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a directory"):
        FolderSource(tmp_path / "nope")
    with pytest.raises(ValueError, match="extensions"):
        FolderSource(tmp_path, extensions=".jpg")

"""Shared test set-up: isolated caches, no network, seeded RNGs, image factories.

Area-specific fixtures live in ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import os
import random
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

# --- caches and offline mode, set before anything imports pyiqa/huggingface_hub/torch.hub ----
# pyiqa computes its cache dir from TORCH_HOME at import time, so this must run first.
_CACHE_ROOT = Path(tempfile.mkdtemp(prefix="psr4k-test-cache-"))
os.environ["HF_HOME"] = str(_CACHE_ROOT / "hf")
os.environ["HF_HUB_CACHE"] = str(_CACHE_ROOT / "hf" / "hub")
os.environ["HF_DATASETS_CACHE"] = str(_CACHE_ROOT / "hf" / "datasets")
os.environ["TORCH_HOME"] = str(_CACHE_ROOT / "torch")
os.environ["PORTRAITSR4K_HOME"] = str(_CACHE_ROOT / "portraitsr4k")
os.environ["INSIGHTFACE_HOME"] = str(_CACHE_ROOT / "insightface")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "2")

# The torchvision fix must run before anything imports torchvision.
import portraitsr4k.torchvision_compat  # noqa: E402,F401  isort: skip

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from portraitsr4k import sample_photos  # noqa: E402

_LOOPBACK_PREFIXES = ("127.", "::1", "localhost")


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        return host.startswith(_LOOPBACK_PREFIXES) or host in ("", "0.0.0.0")
    return isinstance(address, (str, bytes))  # AF_UNIX sockets


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every socket connection except loopback (local test servers are fine)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise OSError(f"network access is disabled in tests (tried {address!r})")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _is_loopback(address):
            raise OSError(f"network access is disabled in tests (tried {address!r})")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


@pytest.fixture(autouse=True)
def _seeded_rngs() -> Iterator[None]:
    """Every test starts from the same global RNG state (library code must not rely on it)."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def cache_root() -> Path:
    """The temporary root holding HF / torch hub / pyiqa caches for this test session."""
    return _CACHE_ROOT


# --- factories ----------------------------------------------------------------------------------

ImageFactory = Callable[..., np.ndarray]


def _smooth_field(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    coarse = rng.random((max(2, height // cells), max(2, width // cells), 3), dtype=np.float32)
    img = Image.fromarray((coarse * 255).astype(np.uint8)).resize((width, height), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


@pytest.fixture
def make_image() -> ImageFactory:
    """Factory for synthetic photo-like RGB images, ``(H, W, 3)`` uint8.

    ``make_image(height, width, kind="photo", seed=0)`` with ``kind`` one of ``photo``
    (smooth colour field + fine texture + sensor-like noise), ``flat`` (one colour),
    ``gradient`` (horizontal ramp), ``noise`` (uniform noise), ``checker`` (8 px squares).
    """

    def factory(height: int, width: int, kind: str = "photo", seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if kind == "photo":
            img = 0.8 * _smooth_field(rng, height, width, 64) + 0.2 * _smooth_field(rng, height, width, 8)
            img = img * 255 + rng.normal(0, 4, size=img.shape)
        elif kind == "flat":
            img = np.broadcast_to(rng.integers(0, 256, 3), (height, width, 3)).astype(np.float64)
        elif kind == "gradient":
            ramp = np.linspace(0, 255, width)[None, :, None]
            img = np.broadcast_to(ramp, (height, width, 3)).astype(np.float64)
        elif kind == "noise":
            img = rng.integers(0, 256, (height, width, 3)).astype(np.float64)
        elif kind == "checker":
            yy, xx = np.mgrid[:height, :width]
            img = (((yy // 8) + (xx // 8)) % 2 * 255)[..., None].repeat(3, axis=2).astype(np.float64)
        else:
            raise ValueError(f"unknown kind {kind!r}")
        return np.clip(np.round(img), 0, 255).astype(np.uint8)

    return factory


@pytest.fixture
def make_encoded(make_image: ImageFactory) -> Callable[..., bytes]:
    """Factory for encoded image bytes: ``make_encoded(fmt="JPEG", height=64, width=96, **save_kw)``."""

    def factory(fmt: str = "JPEG", height: int = 64, width: int = 96, kind: str = "photo",
                seed: int = 0, mode: str = "RGB", **save_kw: object) -> bytes:
        import io

        img = Image.fromarray(make_image(height, width, kind, seed)).convert(mode)
        buf = io.BytesIO()
        img.save(buf, format=fmt, **save_kw)
        return buf.getvalue()

    return factory


@pytest.fixture
def sample_photo() -> Callable[[str], Path]:
    """Path of a real photo shipped in an installed package (see ``portraitsr4k.sample_photos``)."""

    def factory(name: str) -> Path:
        return sample_photos.locate(name)

    return factory


@pytest.fixture
def sample_rgb(sample_photo: Callable[[str], Path]) -> Callable[[str], np.ndarray]:
    """A shipped photo decoded to ``(H, W, 3)`` uint8 RGB (plain PIL, for test set-up only)."""

    def factory(name: str) -> np.ndarray:
        with Image.open(sample_photo(name)) as img:
            return np.asarray(img.convert("RGB"))

    return factory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``slow`` tests unless PSR_RUN_SLOW=1 and ``gpu`` tests without CUDA, with reasons."""
    run_slow = os.environ.get("PSR_RUN_SLOW") == "1"
    has_cuda = torch.cuda.is_available()
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow on a 2-core CPU; set PSR_RUN_SLOW=1 to run"))
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device (none here)"))

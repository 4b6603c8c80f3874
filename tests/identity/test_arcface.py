"""ArcFace ONNX backend with a tiny real-format ONNX (no real w600k_r50.onnx here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from portraitsr4k.faces import Face
from portraitsr4k.identity import build_embedder
from portraitsr4k.weights import MissingWeightsError

from .conftest import load_rgb, make_arcface_onnx

# insightface's ArcFace 112x112 template: Tom Hanks' shipped crop is already aligned to it
ARCFACE_TEMPLATE = ((38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655),
                    (70.7299, 92.2041))


@pytest.fixture
def insightface_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PORTRAITSR4K_HOME", str(tmp_path / "psr"))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))
    return tmp_path / "insightface" / "models" / "buffalo_l"


def test_missing_model_error(insightface_home: Path) -> None:
    with pytest.raises(MissingWeightsError) as info:
        build_embedder("arcface")
    assert "w600k_r50.onnx" in str(info.value)
    assert "portraitsr4k-weights fetch insightface_arcface_r50" in str(info.value)
    assert str(insightface_home / "w600k_r50.onnx") in str(info.value)


def test_embedding_equals_independent_computation(insightface_home: Path) -> None:
    weight = make_arcface_onnx(insightface_home / "w600k_r50.onnx")
    emb = build_embedder("arcface")
    assert emb.name == "arcface_w600k_r50" and emb.dim == 512 and emb.same_person_threshold == 0.65
    # a colour 112x112 image (the shipped Tom Hanks crop is grey, useless for a BGR check);
    # with landmarks on the template the alignment is the identity whatever the content
    img = np.asarray(Image.fromarray(load_rgb("astronaut")).resize((112, 112), Image.BICUBIC))
    face = Face(bbox=(0, 0, 112, 112), landmarks=ARCFACE_TEMPLATE, score=1.0)
    v = emb.embed(img, face)
    assert v.shape == (512,) and v.dtype == np.float32 and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    # landmarks on the template: norm_crop is the identity, so the model sees the image itself,
    # as RGB scaled (x - 127.5) / 127.5: insightface takes BGR images and swaps them back to RGB
    # for the network (blobFromImages(swapRB=True)), so the wrapper must hand it BGR
    blob = ((img.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1).reshape(1, -1)
    expected = (blob @ weight)[0]
    expected /= np.linalg.norm(expected)
    assert np.allclose(v, expected, atol=2e-3)
    # channel order matters: the channel-swapped input's vector is much farther away
    swapped = ((img[..., ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1).reshape(1, -1)
    wrong = (swapped @ weight)[0]
    wrong /= np.linalg.norm(wrong)
    assert np.abs(v - expected).max() < 0.2 * np.abs(v - wrong).max()


def test_alignment_undoes_a_shift(insightface_home: Path) -> None:
    make_arcface_onnx(insightface_home / "w600k_r50.onnx")
    emb = build_embedder("arcface")
    img = load_rgb("tom_hanks_aligned")
    canvas = np.zeros((300, 400, 3), np.uint8)
    canvas[100:212, 150:262] = img
    moved = Face(bbox=(150, 100, 262, 212), landmarks=tuple((x + 150, y + 100) for x, y in ARCFACE_TEMPLATE),
                 score=1.0)
    here = Face(bbox=(0, 0, 112, 112), landmarks=ARCFACE_TEMPLATE, score=1.0)
    assert float(emb.embed(canvas, moved) @ emb.embed(img, here)) > 0.999
    batch = emb.embed_many(canvas, [moved, moved])
    assert batch.shape == (2, 512)


def test_non_recognition_model_rejected(tmp_path: Path, insightface_home: Path) -> None:
    """A detector-like file (several outputs) passed as the ArcFace model fails clearly."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Identity", ["x"], ["b"])],
        "two_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 640, 640]) for n in ("a", "b")])
    path = tmp_path / "det_10g.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ValueError, match="not an ArcFace recognition model"):
        build_embedder("arcface", model_path=path)

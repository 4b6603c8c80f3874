"""Per-sample stages: gate, texture, crop window, outcome codes, learned-IQA weights check."""

from __future__ import annotations

import numpy as np
import pytest

from portraitsr4k.quality.texture import texture_scores
from portraitsr4k.stages.crop import CropSettings, crop_window
from portraitsr4k.stages.gate import GateSettings, gate_header, gate_size
from portraitsr4k.stages.outcome import StageOutcome, reason_token
from portraitsr4k.stages.quality import QualitySettings, texture_check


def test_gate_size_rules():
    g = GateSettings()
    # The paper's aspect band 0.6-1.6 excludes 16:9 frames (1.78) in both orientations.
    assert gate_size(3840, 2160, g).status == "rejected:aspect"
    assert gate_size(2160, 3840, g).status == "rejected:aspect"
    assert gate_size(4000, 3000, g).status == "ok"
    assert gate_size(3000, 4000, g).status == "ok"
    assert gate_size(3840, 2400, g).status == "ok"  # 16:10
    assert gate_size(3000, 3000, g).status == "rejected:too_small"  # 9 MP but long side < 3840
    assert gate_size(1920, 1080, g).status == "rejected:too_small"
    assert gate_size(6000, 2500, g).status == "rejected:aspect"  # 2.4
    assert gate_size(20000, 20000, g).status == "rejected:too_large"
    assert gate_size(None, None, g).status == "ok"  # unknown before fetch: checked on the header
    relaxed = GateSettings(relax_size=True)
    assert gate_size(512, 600, relaxed).status == "ok"
    assert gate_size(512, 2000, relaxed).status == "rejected:aspect"
    with pytest.raises(ValueError):
        GateSettings(min_aspect=2.0, max_aspect=1.0)


def test_gate_header_maps_probe_results(make_encoded):
    from portraitsr4k import image_io

    g = GateSettings(relax_size=True)
    assert gate_header(image_io.probe(make_encoded("JPEG", 64, 96)), g).status == "ok"
    assert gate_header(image_io.probe(b""), g).status == "rejected:empty"
    assert gate_header(image_io.probe(make_encoded("PNG", 64, 96)), GateSettings(relax_size=True, formats=("JPEG",))
                       ).status == "rejected:format"
    assert gate_header(image_io.probe(make_encoded("JPEG", 64, 96)), GateSettings()).status == "rejected:too_small"


def test_texture_scores_separate_flat_and_textured(make_image):
    rng = np.random.default_rng(0)
    flat = np.full((600, 800, 3), 128, np.uint8)
    noisy = rng.integers(0, 256, size=(600, 800, 3), dtype=np.uint8)
    photo = make_image(600, 800, "photo", 0)
    s_flat = texture_scores(flat, full_long_side=800)
    assert s_flat.laplacian_var == 0.0 and s_flat.flat_patch_ratio == 1.0
    assert texture_scores(noisy, full_long_side=800).laplacian_var > 8000
    settings = QualitySettings()
    assert texture_check(flat, 800, settings)[0].status == "rejected:blurry"
    assert texture_check(noisy, 800, settings)[0].status == "rejected:noisy"
    # The 240 px patch is given at full resolution and scaled to the analysed copy.
    assert texture_scores(photo, full_long_side=3200).patch_px == 60
    with pytest.raises(TypeError):
        texture_scores(photo.astype(np.float32), full_long_side=800)


def test_crop_window_keeps_faces_whole_and_snaps_to_mcu():
    face = {"bbox": [3000.0, 1000.0, 3400.0, 1500.0]}
    settings = CropSettings(enabled=True)
    w = crop_window(6000, 4000, [face], settings, 4)
    assert (w.width, w.height) == (3840, 2160)
    assert w.x0 % 16 == 0 and w.y0 % 16 == 0
    assert w.x0 <= 3000 - 100 and w.x1 >= 3400 + 100 and w.y0 <= 1000 - 125 and w.y1 >= 1500 + 125
    portrait = crop_window(4000, 6000, [face], settings, 4)
    assert (portrait.width, portrait.height) == (2160, 3840)
    # Off: the full photo, trimmed at the right/bottom to a multiple of the scale.
    off = crop_window(1281, 886, [face], CropSettings(), 4)
    assert (off.x0, off.y0, off.x1, off.y1) == (0, 0, 1280, 884)
    # Faces spread wider than one crop: keep the whole photo.
    far = [{"bbox": [10.0, 10.0, 100.0, 100.0]}, {"bbox": [5800.0, 3800.0, 5900.0, 3900.0]}]
    assert crop_window(6000, 4000, far, settings, 4).is_full(6000, 4000)


def test_outcome_codes_are_validated():
    assert StageOutcome("gate", "rejected:too_small").status == "rejected:too_small"
    assert reason_token("Truncated File!") == "truncated_file"
    with pytest.raises(ValueError):
        StageOutcome("gate", "failed")


def test_learned_iqa_without_weights_fails_naming_the_file_and_command():
    from portraitsr4k.quality.iqa import LearnedIQA, MissingIQAWeightsError
    from portraitsr4k.weights.resolve import MissingWeightsError

    musiq = LearnedIQA(name="musiq", weight_file="pyiqa_musiq_koniq")
    with pytest.raises(MissingWeightsError, match=r"(?s)musiq_koniq_ckpt-e95806b9\.pth.*portraitsr4k-weights fetch"):
        musiq.score(np.zeros((32, 32, 3), np.uint8))
    qalign = LearnedIQA(name="qalign", hf_repo="q-future/one-align")
    with pytest.raises(MissingIQAWeightsError, match=r"(?s)q-future/one-align.*portraitsr4k-weights"):
        qalign.weight_path()
    with pytest.raises(ValueError):
        LearnedIQA(name="musiq", percentile=100.0, weight_file="x")

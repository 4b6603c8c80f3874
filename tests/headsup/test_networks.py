"""Loss networks: ArcFace IR-SE50 matches facexlib's keys and loads its file format; LPIPS
refuses to run without its real backbone unless the smoke-test setting is explicit."""

from __future__ import annotations

import pytest
import torch

from headsup_model.losses.face import FaceLosses, FaceLossWeights
from headsup_model.losses.perceptual import LPIPSLoss
from headsup_model.models.arcface_irse import ArcFaceIRSE50
from headsup_model.models.discriminator import PatchDiscriminator


def test_arcface_keys_match_facexlib_and_load(tmp_path):
    from facexlib.recognition.arcface_arch import Backbone

    ref = Backbone(50, 0.6, "ir_se").eval()
    ours = ArcFaceIRSE50()
    assert {k: v.shape for k, v in ref.state_dict().items()} == {k: v.shape for k, v in ours.state_dict().items()}
    # a facexlib-format file (plain state dict, as released) loads through the weights registry path
    path = tmp_path / "recognition_arcface_ir_se50.pth"
    torch.save(ref.state_dict(), path)
    loaded = ArcFaceIRSE50.from_facexlib(path)
    x = torch.rand(2, 3, 112, 112, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        emb = loaded(x)
        assert torch.allclose(emb, torch.nn.functional.normalize(ref(x)), atol=1e-5)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)


def test_arcface_missing_weights_is_clear():
    from portraitsr4k.weights import MissingWeightsError

    with pytest.raises(MissingWeightsError, match="facexlib_arcface_ir_se50"):
        ArcFaceIRSE50.from_facexlib()


def test_lpips_needs_real_backbone_unless_smoke(tmp_path):
    from portraitsr4k.weights import MissingWeightsError

    with pytest.raises(MissingWeightsError, match="vgg16"):
        LPIPSLoss()
    smoke = LPIPSLoss(random_backbone=True)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert float(smoke(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(smoke(x, -x)) > 0


def test_face_losses_terms_and_gradients():
    torch.manual_seed(0)
    net = ArcFaceIRSE50(stages=((8, 8, 1), (8, 8, 1), (8, 16, 1), (16, 16, 1)))
    disc = PatchDiscriminator(base_channels=8, n_layers=2)
    losses = FaceLosses(weights=FaceLossWeights(), lpips=LPIPSLoss(random_backbone=True), identity_net=net,
                        discriminator=disc)
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    sr = (hr + 0.3 * torch.randn(2, 3, 32, 32)).clamp(-1, 1).requires_grad_(True)
    terms = losses(sr, hr)
    assert set(terms) == {"face_mse", "face_lpips", "identity", "face_gan"}
    sum(terms.values()).backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0
    assert all(p.grad is None for p in disc.parameters())  # the generator step leaves D alone
    d = losses.discriminator_loss(sr, hr)
    d.backward()
    assert any(p.grad is not None for p in disc.parameters())
    with pytest.raises(ValueError, match="identity = 4.0 > 0 needs its network"):
        FaceLosses(weights=FaceLossWeights(), lpips=losses.lpips, identity_net=None, discriminator=disc)

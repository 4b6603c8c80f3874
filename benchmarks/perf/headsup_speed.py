"""HeadsUp speed and memory: one-step inference at 512×512 and 3840×2160 (tiled), and one
training step at batch 4.

    python -m benchmarks.perf.headsup_speed                 # CUDA if present, else CPU (tiny model)
    python -m benchmarks.perf.headsup_speed --model sd21_random --device cuda

On CUDA the default model is the full-size SD-2.1-base-shaped one with random weights
(``conf/model/sd21_random.yaml``; timing only), in fp16 for inference and fp16 autocast for
training. On CPU only the tiny model (``conf/model/tiny.yaml``) is measured — its numbers say
nothing about the real model. The training step is the generator (MSE + LPIPS with a random
VGG backbone, timing only + VSD) plus the VSD regulariser update, on random crops; face losses
and the data pipeline are not included. Prints one JSON line per measurement.

Targets from issue 5: 512² ≤ 0.08 s on one H100 (fp16), 3840×2160 ≤ 6 s with peak GPU memory
≤ 20 GB.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

import headsup_model  # noqa: F401  (torchvision compat first)

logger = logging.getLogger(__name__)
CONF = Path(__file__).resolve().parents[2] / "conf" / "model"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device, repeats: int) -> tuple[float, float]:
    """(median seconds, peak GPU GiB or nan) over ``repeats`` calls after one warm-up."""
    fn()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    return float(np.median(times)), peak


def main(argv: list[str] | None = None) -> None:
    from omegaconf import OmegaConf

    from headsup_model.losses.perceptual import LPIPSLoss
    from headsup_model.losses.vsd import VSDLoss
    from headsup_model.model import HeadsUpModel
    from headsup_model.pipeline import HeadsUpPipeline, TilingConfig
    from headsup_model.weights_io import base_spec_from_config, build_base

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default=None, help="conf/model name (default: sd21_random on CUDA, tiny on CPU)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-4k", action="store_true")
    ap.add_argument("--vae-decoder-tile", type=int, default=None,
                    help="decoder tile in latents (default 224 = OSEDiff on CUDA; 64 on CPU, where the VAE "
                         "mid-block attention over 224² latents would need a 10 GB attention matrix)")
    ap.add_argument("--vae-encoder-tile", type=int, default=None, help="encoder tile in px (1024 CUDA, 512 CPU)")
    ap.add_argument("--train-crop", type=int, default=None, help="training crop (default 512 CUDA, 64 CPU)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    name = args.model or ("sd21_random" if device.type == "cuda" else "tiny")
    model_cfg = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml"), resolve=True)
    comps = build_base(base_spec_from_config(model_cfg))
    reg_unet = copy.deepcopy(comps.unet)
    model = HeadsUpModel(components=comps)
    common = {"model": name, "device": str(device), "torch_threads": torch.get_num_threads()}

    # --- inference ----------------------------------------------------------------------------
    cuda = device.type == "cuda"
    tiling = TilingConfig(vae_decoder_tile=args.vae_decoder_tile or (224 if cuda else 64),
                          vae_encoder_tile=args.vae_encoder_tile or (1024 if cuda else 512))
    common["tiling"] = {"vae_encoder_tile": tiling.vae_encoder_tile, "vae_decoder_tile": tiling.vae_decoder_tile,
                        "latent_tile": tiling.latent_tile, "latent_overlap": tiling.latent_overlap}
    pipe = HeadsUpPipeline(model=copy.deepcopy(model), prompt_encoder=comps.prompt_encoder, device=str(device),
                           tiling=tiling)
    rng = np.random.default_rng(0)
    sizes = [(512, 512)] + ([] if args.skip_4k else [(2160, 3840)])
    for h, w in sizes:
        lq = rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8)
        faces = [{"bbox": [w * 0.4, h * 0.2, w * 0.6, h * 0.5],
                  "landmarks": [[w * 0.46, h * 0.3], [w * 0.54, h * 0.3], [w * 0.5, h * 0.36], [w * 0.47, h * 0.42],
                                [w * 0.53, h * 0.42]]}]
        ref = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
        sec, peak = _timed(lambda p=pipe: p(lq, scale=4, faces=faces, reference=ref), device,
                           args.repeats if h == 512 else 1)
        print(json.dumps({**common, "what": "inference", "output": f"{w}x{h}", "dtype": str(pipe.dtype),
                          "seconds": round(sec, 4), "peak_gpu_gib": round(peak, 3)}))
    del pipe

    # --- one training step --------------------------------------------------------------------
    crop = args.train_crop or (512 if device.type == "cuda" else 64)
    model = model.to(device).train()
    vsd = VSDLoss(unet=reg_unet, alphas_cumprod=comps.scheduler.alphas_cumprod).to(device)
    lpips = LPIPSLoss(random_backbone=True).to(device)  # timing only
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=1e-2)
    opt_reg = torch.optim.AdamW(vsd.trainable_parameters(), lr=5e-5, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(0)
    b = 4
    hr = (torch.rand(b, 3, crop, crop, generator=gen) * 2 - 1).to(device)
    lq = (torch.rand(b, 3, crop, crop, generator=gen) * 2 - 1).to(device)
    mask = torch.zeros(b, 1, crop, crop, device=device)
    mask[:, :, crop // 4: 3 * crop // 4, crop // 4: 3 * crop // 4] = 1
    with torch.no_grad():
        pos, neg = comps.prompt_encoder.to(device)(["a portrait", "low quality"]).chunk(2)
    pos, neg = pos.expand(b, -1, -1), neg.expand(b, -1, -1)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_amp else None

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            out = model(lq, pos, reference_canvas=hr, face_mask=mask)
            loss = (torch.nn.functional.mse_loss(out.image.float(), hr) + 2 * lpips(out.image, hr)
                    + vsd.generator_loss(out.latent, pos, neg, gen))
        (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        (scaler.step(opt) if scaler else opt.step())
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            reg = vsd.regulariser_loss(out.latent, pos, gen)
        (scaler.scale(reg) if scaler else reg).backward()
        (scaler.step(opt_reg) if scaler else opt_reg.step())
        opt_reg.zero_grad(set_to_none=True)
        if scaler:
            scaler.update()

    sec, peak = _timed(step, device, args.repeats)
    print(json.dumps({**common, "what": "train_step", "batch": b, "crop": crop, "amp_fp16": use_amp,
                      "trainable_params_m": round(model.num_trainable() / 1e6, 3),
                      "seconds": round(sec, 4), "peak_gpu_gib": round(peak, 3)}))


if __name__ == "__main__":
    main()

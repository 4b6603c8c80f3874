"""degradations: Real-ESRGAN-style LQ synthesis with per-sample, recorded, replayable draws.

Pure torch (+ OpenCV/NumPy/Pillow on the CPU), no I/O, importable alone::

    import degradations
    deg = degradations.build("realesrgan", scale=4)
    lq, params = deg(hr, torch.Generator().manual_seed(0))   # hr (3, H, W) float32 in [0, 1]
    record = params.to_dict()                                # JSON-serialisable
    assert torch.equal(degradations.replay(hr, record), lq)

Presets: ``degradations.PRESETS`` (``realesrgan``, ``osediff``, ``stablesr``,
``codeformer_face``, ``bicubic``); Hydra configs in ``conf/degradation/``.
"""

from degradations.config import (
    DegradationConfig,
    FinalConfig,
    KernelConfig,
    NoiseConfig,
    ResizeConfig,
    StageConfig,
    UsmConfig,
)
from degradations.params import (
    DegradationParams,
    FinalParams,
    KernelParams,
    NoiseParams,
    ResizeParams,
    StageParams,
    UsmParams,
)
from degradations.pipeline import Degradation, apply_params, build, replay
from degradations.presets import PRESETS
from degradations.sharpen import usm_sharpen

__all__ = [
    "PRESETS",
    "Degradation",
    "DegradationConfig",
    "DegradationParams",
    "FinalConfig",
    "FinalParams",
    "KernelConfig",
    "KernelParams",
    "NoiseConfig",
    "NoiseParams",
    "ResizeConfig",
    "ResizeParams",
    "StageConfig",
    "StageParams",
    "UsmConfig",
    "UsmParams",
    "apply_params",
    "build",
    "replay",
    "usm_sharpen",
]

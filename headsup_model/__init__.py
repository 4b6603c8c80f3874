"""headsup_model: HeadsUp, one-step diffusion portrait SR (OSEDiff core + face supervision +
optional same-person reference face): modules, pipeline, losses, training, CLI.

Public API:
- ``headsup_model.model.HeadsUpModel`` / ``HeadsUpConfig`` (``use_reference=False`` = OSEDiff);
- ``headsup_model.models.components.load_pretrained`` / ``build_random`` (base SD-2.1 parts);
- ``headsup_model.weights_io.save_trained`` / ``load_trained`` (safetensors + JSON, trained tensors only);
- ``headsup_model.pipeline.HeadsUpPipeline`` (``from_checkpoint(dir)``, ``pipe(lq_uint8, scale=4,
  faces=[...], reference=aligned_face)``);
- ``headsup_model.training.trainer.Trainer``; commands ``headsup-train`` and ``headsup-sr``.
"""

# Must come before anything that may import torchvision (peft via transformers, lpips ...).
from portraitsr4k import torchvision_compat as _torchvision_compat  # noqa: F401  isort: skip

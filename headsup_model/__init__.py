"""headsup_model: HeadsUp, one-step diffusion portrait SR (OSEDiff core + face supervision +
optional same-person reference face): modules, pipeline, losses, training, CLI."""

# Must come before anything that may import torchvision (peft via transformers, lpips ...).
from portraitsr4k import torchvision_compat as _torchvision_compat  # noqa: F401  isort: skip

"""benchmarks: run SR methods x datasets x metrics on full images and face regions, cache
per-cell records, and build leaderboards from those records alone."""

# Must come before anything that may import torchvision (pyiqa, lpips, facexlib ...).
from portraitsr4k import torchvision_compat as _torchvision_compat  # noqa: F401  isort: skip

"""portraitsr4k: build the PortraitSR-4K dataset (safe image I/O, faces, quality, identity,
stages, Parquet shards, dataset card, publishing) and the shared pieces the benchmark and
HeadsUp packages read it with.

Importing the package is cheap: submodules are imported where they are used.
"""

# Must come before anything that may import torchvision (see the module's docstring).
from portraitsr4k import torchvision_compat as _torchvision_compat  # noqa: F401  isort: skip

__version__ = "0.1.0"

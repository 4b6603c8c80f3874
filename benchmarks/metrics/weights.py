"""Find the weight files a learned metric needs and make them visible where its library looks.

pyiqa and torchvision look only in their own caches (``$TORCH_HOME/hub/pyiqa``,
``$TORCH_HOME/hub/checkpoints``, ``$TORCH_HOME/hub/clip``) and download otherwise. The project's
weights catalog (:mod:`portraitsr4k.weights`) also accepts files in
``$PORTRAITSR4K_HOME/weights``; a file found there is symlinked into the library cache so the
library finds it without network.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from benchmarks.metrics.base import MetricUnavailable

logger = logging.getLogger(__name__)

__all__ = ["require_weights"]

_LIBRARY_SUBDIRS = {"pyiqa": ("hub", "pyiqa"), "torchvision": ("hub", "checkpoints"), "clip": ("hub", "clip")}


def _torch_home() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir()).parent


def require_weights(names: list[str] | tuple[str, ...], *, who: str) -> dict[str, Path]:
    """Resolve catalog ``names``; raise :class:`MetricUnavailable` naming the first missing file.

    Returns ``{name: path}``. Files found outside their library cache are symlinked into it.
    """
    from portraitsr4k.weights import MissingWeightsError, by_name, resolve

    found: dict[str, Path] = {}
    for name in names:
        entry = by_name(name)
        try:
            path = resolve(name)
        except MissingWeightsError as err:
            raise MetricUnavailable(f"{who}: {err}", entry.filename) from err
        sub = _LIBRARY_SUBDIRS.get(entry.library_cache or "")
        if sub is not None:
            target = _torch_home().joinpath(*sub, entry.filename)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(path, target)
                logger.info("linked %s into %s for %s", path, target, who)
        found[name] = path
    return found

"""Histogram figures of the dataset card, rendered to byte-identical PNGs.

Rendering uses :class:`matplotlib.figure.Figure` with the Agg canvas directly: no ``pyplot``,
no global backend switch, no state shared with the caller. PNG bytes are deterministic for a
given matplotlib/freetype build: the ``Software`` text chunk (which names the matplotlib
version) is dropped and nothing time-dependent is written.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from portraitsr4k.dataset.writer import atomic_write_bytes

logger = logging.getLogger(__name__)

_COLUMNS = 3
_PANEL_INCHES = (3.6, 2.6)
_DPI = 100


def histogram_png(
    panels: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabels: Mapping[str, str] | None = None,
    bins: int = 30,
) -> bytes:
    """A grid of histograms (one panel per entry of ``panels``) as PNG bytes.

    Args:
        panels: panel title -> finite values (non-finite values are dropped, counted in the title).
        title: figure title.
        xlabels: optional x-axis label per panel.
        bins: number of equal-width bins per panel.

    Raises:
        ValueError: no panel, or a panel without any finite value.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("histogram_png needs at least one panel")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be an int >= 1, got {bins!r}")
    xlabels = dict(xlabels or {})
    columns = min(_COLUMNS, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(_PANEL_INCHES[0] * columns, _PANEL_INCHES[1] * rows + 0.5), dpi=_DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(title)
    for k, (name, values) in enumerate(panels.items()):
        data = np.asarray(list(values), dtype=np.float64)
        finite = data[np.isfinite(data)]
        if finite.size == 0:
            raise ValueError(f"panel {name!r} has no finite values")
        axes = figure.add_subplot(rows, columns, k + 1)
        axes.hist(finite, bins=bins, color="#4C72B0", edgecolor="white", linewidth=0.4)
        dropped = data.size - finite.size
        suffix = f", {dropped} non-finite dropped" if dropped else ""
        axes.set_title(f"{name} (n={finite.size}{suffix})", fontsize=8)
        axes.set_xlabel(xlabels.get(name, ""), fontsize=8)
        axes.set_ylabel("count", fontsize=8)
        axes.tick_params(labelsize=7)
    # Fixed margins instead of tight_layout(): that would draw the whole figure a second time.
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.55 / height, top=1 - 0.75 / height,
                           wspace=0.3, hspace=0.5)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_histogram(path: Path | str, panels: Mapping[str, Sequence[float]], *, title: str,
                    xlabels: Mapping[str, str] | None = None, bins: int = 30) -> Path:
    """Render :func:`histogram_png` and write it atomically to ``path``."""
    path = Path(path)
    atomic_write_bytes(path, histogram_png(panels, title=title, xlabels=xlabels, bins=bins))
    logger.debug("wrote figure %s (%d panels)", path, len(panels))
    return path

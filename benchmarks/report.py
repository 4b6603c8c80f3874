"""``report.html``: a self-contained page with the leaderboard tables and side-by-side face crops.

Images are embedded as base64 PNG data URIs, so the file can be mailed or attached alone.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from benchmarks.regions import face_box

__all__ = ["write_report", "face_panels"]

_CSS = """body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}
.best{font-weight:bold;background:#e6ffe6}figure{display:inline-block;margin:4px;text-align:center}
figcaption{font-size:12px}img{image-rendering:pixelated}"""


def _png_uri(rgb: np.ndarray, max_side: int = 256) -> str:
    img = Image.fromarray(rgb)
    s = max_side / max(img.size)
    if s < 1:
        img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))), Image.Resampling.LANCZOS)
    elif s > 1:
        img = img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def face_panels(samples: Sequence[Any], outputs: dict[str, dict[str, np.ndarray]], *, margin: float = 0.25,
                max_panels: int = 3) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """Side-by-side crops of the first face (or the image centre) of up to ``max_panels`` samples.

    ``outputs`` maps method -> {sample id: SR image}. Returns ``[(title, [(label, crop)])]`` with
    LQ (nearest-upscaled), each method's output and HR, all cut with the same box.
    """
    panels = []
    for sample in samples[:max_panels]:
        hr = sample.hr()
        h, w = hr.shape[:2]
        if sample.faces:
            x1, y1, x2, y2 = face_box(sample.faces[0]["bbox"], (h, w), margin)
        else:
            side = min(h, w) // 2
            x1, y1 = (w - side) // 2, (h - side) // 2
            x2, y2 = x1 + side, y1 + side
        lq = sample.lq()
        lq_up = np.asarray(Image.fromarray(lq).resize((lq.shape[1] * sample.scale, lq.shape[0] * sample.scale),
                                                      Image.Resampling.NEAREST))
        crops = [("LQ", lq_up[y1:y2, x1:x2])]
        for method, by_id in outputs.items():
            if sample.id in by_id:
                crops.append((method, by_id[sample.id][y1:y2, x1:x2]))
        crops.append(("HR", hr[y1:y2, x1:x2]))
        panels.append((f"{sample.id} ({'face 0' if sample.faces else 'centre'}, box {x1},{y1}-{x2},{y2})", crops))
    return panels


def _table(grp: pd.DataFrame) -> str:
    metrics = sorted(grp["metric"].unique())
    head = "".join(
        f"<th>{html.escape(m)} {'↓' if grp[grp.metric == m].lower_better.iloc[0] else '↑'}</th>" for m in metrics)
    rows = []
    for method in sorted(grp["method"].unique()):
        cells = [f"<td>{html.escape(method)}</td>"]
        for m in metrics:
            r = grp[(grp.metric == m) & (grp.method == method)]
            if r.empty or r.iloc[0]["n_images"] == 0 or (isinstance(r.iloc[0]["mean"], float)
                                                         and math.isnan(r.iloc[0]["mean"])):
                note = "" if r.empty else html.escape(str(r.iloc[0]["note"])[:200])
                cells.append(f"<td title='{note}'>–</td>")
                continue
            r = r.iloc[0]
            text = f"{r['mean']:.4f}"
            if r["n_images"] > 1:
                text += f" <small>[{r['ci_low']:.4f}, {r['ci_high']:.4f}]</small>"
            cells.append(f"<td class='{'best' if r['best'] else ''}'>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr><th>method</th>{head}</tr>{''.join(rows)}</table>"


def write_report(out_dir: Path | str, board: pd.DataFrame,
                 panels: list[tuple[str, list[tuple[str, np.ndarray]]]] | None = None,
                 manifest: dict[str, Any] | None = None) -> Path:
    """Write ``report.html`` (tables per dataset/split/region, then crop panels)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>portraitsr4k benchmark</title>"
             f"<style>{_CSS}</style></head><body><h1>portraitsr4k benchmark</h1>",
             "<p>Means with 95% bootstrap CIs over images (1000 resamples, seed 0); green = best by the "
             "metric's direction. Hover a dash for why a cell was not scored.</p>"]
    if manifest and manifest.get("protocol"):
        p = manifest["protocol"]
        parts.append(f"<p>Protocol <b>{html.escape(p['name'])}</b>: {html.escape(p.get('psnr_convention') or '')}</p>")
    if manifest and manifest.get("convention_conflicts"):
        parts.append("<p><b>Warning, mixed conventions:</b> "
                     + "; ".join(html.escape(c) for c in manifest["convention_conflicts"]) + "</p>")
    if board.empty:
        parts.append("<p>No records.</p>")
    for (dataset, split, region), grp in board.groupby(["dataset", "split", "region"], sort=True):
        parts.append(f"<h2>{html.escape(str(dataset))} / {html.escape(str(split))} / {html.escape(str(region))}</h2>")
        parts.append(_table(grp))
    if panels:
        parts.append("<h2>Side-by-side crops</h2>")
        for title, crops in panels:
            parts.append(f"<h3>{html.escape(title)}</h3><div>")
            for label, crop in crops:
                if crop.size:
                    parts.append(f"<figure><img src='{_png_uri(crop)}'><figcaption>{html.escape(label)}"
                                 f"</figcaption></figure>")
            parts.append("</div>")
    parts.append("</body></html>")
    path = Path(out_dir) / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path

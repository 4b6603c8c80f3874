"""Leaderboards as a pure function of records.

For every (dataset, split, metric, region) and method:

- the per-image value is the mean over that image's faces (face regions) or the image's value
  (``full``), so every image weighs the same and the bootstrap resamples images;
- ``mean`` with a 95% percentile-bootstrap confidence interval (``n_boot`` resamples of images,
  ``numpy.random.default_rng(seed)``: the same records always give the same table);
- ``rank`` by the metric's direction (1 = best; ties share the lower rank);
- a paired comparison with the best method on the images both have: mean difference and the
  two-sided **Wilcoxon signed-rank** p-value (``scipy.stats.wilcoxon``; ``NaN`` with fewer than 2
  pairs or when every difference is zero);
- counts of the other statuses (``no_face``, ``unavailable``, ``error``) with one example
  message, so missing weights and detector misses are visible next to the numbers.

Set-level metrics (FID, ``image_id == "*"``) get their single value, no interval.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.records import latest, load_records

logger = logging.getLogger(__name__)

__all__ = ["build_leaderboard", "bootstrap_ci", "paired_test", "to_markdown", "write_leaderboard",
           "LEADERBOARD_COLUMNS"]

GROUP = ["dataset", "split", "metric", "region"]
LEADERBOARD_COLUMNS = GROUP + ["method", "lower_better", "n_images", "n_values", "mean", "ci_low", "ci_high",
                               "rank", "best", "delta_vs_best", "p_vs_best", "n_no_face", "n_no_reference",
                               "n_unavailable", "n_error", "note"]


def bootstrap_ci(values: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` ``(n,) float64``."""
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return math.nan, math.nan
    if values.size == 1:
        return float(values[0]), float(values[0])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_boot, values.size))
    means = values[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def paired_test(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """(mean of a - b, two-sided Wilcoxon signed-rank p) over the index labels both share."""
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return math.nan, math.nan
    d = (a.loc[common] - b.loc[common]).to_numpy(np.float64)
    delta = float(d.mean())
    if len(common) < 2 or np.all(d == 0):
        return delta, math.nan
    from scipy.stats import wilcoxon

    return delta, float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def _per_image(ok: pd.DataFrame) -> pd.Series:
    return ok.groupby("image_id")["value"].mean()


def build_leaderboard(records: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Leaderboard rows (:data:`LEADERBOARD_COLUMNS`) from raw records (stale rows resolved)."""
    df = latest(records)
    if df.empty:
        return pd.DataFrame(columns=LEADERBOARD_COLUMNS)
    out = []
    for key, grp in df.groupby(GROUP, sort=True):
        lower_better = bool(grp["lower_better"].iloc[0])
        per_method: dict[str, pd.Series] = {}
        rows = {}
        for method, mg in grp.groupby("method", sort=True):
            ok = mg[mg["status"] == "ok"]
            vals = _per_image(ok)
            per_method[method] = vals
            counts = mg["status"].value_counts()
            bad = mg[mg["status"].isin(["unavailable", "error"])]
            note = "" if bad.empty else str(bad["message"].iloc[0])[:300]
            lo, hi = bootstrap_ci(vals.to_numpy(), n_boot=n_boot, seed=seed) if len(vals) else (math.nan, math.nan)
            rows[method] = dict(zip(GROUP, key), method=method, lower_better=lower_better,
                                n_images=int(len(vals)), n_values=int(len(ok)),
                                mean=float(vals.mean()) if len(vals) else math.nan, ci_low=lo, ci_high=hi,
                                n_no_face=int(counts.get("no_face", 0)),
                                n_no_reference=int(counts.get("no_reference", 0)),
                                n_unavailable=int(counts.get("unavailable", 0)),
                                n_error=int(counts.get("error", 0)), note=note)
        scored = {m: r["mean"] for m, r in rows.items() if not math.isnan(r["mean"])}
        best = None
        if scored:
            best = (min if lower_better else max)(scored, key=lambda m: scored[m])
        order = sorted(scored, key=lambda m: scored[m], reverse=not lower_better)
        for m, r in rows.items():
            r["best"] = m == best
            r["rank"] = (1 + sum(1 for o in order if (scored[o] < scored[m] if lower_better else scored[o] > scored[m]))
                         if m in scored else None)
            if best is not None and m != best and m in scored:
                r["delta_vs_best"], r["p_vs_best"] = paired_test(per_method[m], per_method[best])
            else:
                r["delta_vs_best"], r["p_vs_best"] = (0.0 if m == best else math.nan), math.nan
            out.append(r)
    board = pd.DataFrame(out, columns=LEADERBOARD_COLUMNS)
    board["rank"] = board["rank"].astype("Int64")
    return board


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}" if abs(x) >= 1000 else f"{x:.{digits}f}"


def to_markdown(board: pd.DataFrame) -> str:
    """One table per (dataset, split, region): methods x metrics, ``mean [ci]`` (best in bold)."""
    if board.empty:
        return "# Leaderboard\n\nNo records.\n"
    lines = ["# Leaderboard", "",
             "Mean per method with 95% bootstrap CI over images (1000 resamples, seed 0). Arrows give the "
             "metric's direction; **bold** = best; p = two-sided Wilcoxon signed-rank test of the paired "
             "per-image values against the best method.", ""]
    for (dataset, split, region), grp in board.groupby(["dataset", "split", "region"], sort=True):
        metrics = sorted(grp["metric"].unique())
        lines += [f"## {dataset} / {split} / region `{region}`", ""]
        header = ["method"] + [f"{m} {'↓' if grp[grp.metric == m].lower_better.iloc[0] else '↑'}" for m in metrics]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for method in sorted(grp["method"].unique()):
            cells = [method]
            for m in metrics:
                r = grp[(grp.metric == m) & (grp.method == method)]
                if r.empty:
                    cells.append("")
                    continue
                r = r.iloc[0]
                if r["n_images"] == 0:
                    why = ("not run" if r["n_unavailable"] else "no faces" if r["n_no_face"]
                           else "no reference" if r["n_no_reference"] else "failed")
                    cells.append(why)
                    continue
                text = _fmt(r["mean"])
                if r["n_images"] > 1:
                    text += f" [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
                if r["best"]:
                    text = f"**{text}**"
                elif not math.isnan(r["p_vs_best"]):
                    text += f" (p={r['p_vs_best']:.2g})"
                cells.append(text)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    issues = board[(board.n_unavailable > 0) | (board.n_error > 0) | (board.n_no_face > 0)
                   | (board.n_no_reference > 0)]
    if not issues.empty:
        lines += ["## Cells not scored", "",
                  "| dataset | method | metric | region | no face | no reference | unavailable | error | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for _, r in issues.iterrows():
            note = str(r["note"]).replace("|", "/").replace("\n", " ")[:160]
            lines.append(f"| {r.dataset} | {r.method} | {r.metric} | {r.region} | {r.n_no_face} | "
                         f"{r.n_no_reference} | {r.n_unavailable} | {r.n_error} | {note} |")
        lines.append("")
    return "\n".join(lines)


def write_leaderboard(out_dir: Path | str, records_from: Iterable[Path | str] | None = None) -> pd.DataFrame:
    """Build the leaderboard from the records of ``records_from`` (default: ``out_dir``) and write
    ``leaderboard.csv`` and ``leaderboard.md`` into ``out_dir``."""
    out_dir = Path(out_dir)
    sources = list(records_from) if records_from is not None else [out_dir]
    board = build_leaderboard(load_records(sources))
    out_dir.mkdir(parents=True, exist_ok=True)
    board.to_csv(out_dir / "leaderboard.csv", index=False)
    (out_dir / "leaderboard.md").write_text(to_markdown(board))
    return board

"""report.png: weekly waste in the hold-out, the model against the best rule of thumb at matched service level."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .texts import t  # noqa: E402

PLANS = ("model", "baseline")
MAX_PANELS = 11  # products drawn (the largest by demand), plus one panel for all products


def _plain(text: str) -> str:
    """Text matplotlib shows as written (a '$' would start its math mode)."""
    return text.replace("$", r"\$")


def weekly_waste(rows: pd.DataFrame) -> pd.DataFrame:
    """Waste per ISO week (Monday start) and product for each plan; product 'overall' sums all products."""
    frame = rows[["date", "group"]].copy()
    for plan in PLANS:
        frame[plan] = (rows[f"plan_{plan}"] - rows["demand"]).clip(lower=0)
    frame["week"] = frame["date"].dt.to_period("W-SUN").dt.start_time
    per_group = frame.groupby(["group", "week"])[list(PLANS)].sum().reset_index()
    overall = frame.groupby("week")[list(PLANS)].sum().reset_index().assign(group="overall")
    return pd.concat([per_group, overall], ignore_index=True)


def write_png(rows: pd.DataFrame, names: dict[str, str], unit: str, lang: str, starts: list[str], out: Path) -> Path:
    """One panel per product (the largest MAX_PANELS) and one for all products; dotted lines where a window
    starts."""
    weekly = weekly_waste(rows)
    largest = rows.groupby("group")["demand"].sum().sort_values(ascending=False).index[:MAX_PANELS]
    keys = [*sorted(map(str, largest)), "overall"]
    ncols = 2
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(12, 2.6 * nrows), squeeze=False, sharex=True)
    for ax, key in zip(axes.flat, keys, strict=False):
        part = weekly[weekly["group"] == key]
        for plan, style in zip(PLANS, ["-", "--"], strict=True):
            ax.plot(part["week"], part[plan], style, label=t(lang, f"plan_{plan}"), linewidth=1.4)
        for start in starts[1:]:
            ax.axvline(pd.Timestamp(start), color="grey", linestyle=":", linewidth=0.8)
        ax.set_title(_plain(t(lang, "all_products") if key == "overall" else names.get(key, key)), fontsize=10)
        ax.set_ylabel(_plain(t(lang, "chart_y", unit=unit)), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(t(lang, "chart_title"), fontsize=11)
    fig.tight_layout()
    path = out / "report.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

"""``replay --plot``: value, anomaly score and alert levels over time, one panel pair per sensor.

Drawn for an installer choosing thresholds: the value with the alert levels
shaded behind it in their colours, and the calibrated score below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

LEVEL_COLOURS = {1: "#1f77ff", 2: "#ffd21f", 3: "#ff8c00", 4: "#e0001b"}
LEVEL_NAMES = {1: "blue", 2: "yellow", 3: "orange", 4: "red"}
MAX_SENSORS = 6


def plot(
    data: Mapping[str, Sequence[tuple[datetime, float, float | None, int]]],
    path: Path,
    *,
    pack_name: str,
    unit: str,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    sensors = sorted(data)[:MAX_SENSORS]
    if not sensors:
        raise ValueError("nothing to plot: the input had no rows")
    fig, axes = plt.subplots(
        len(sensors) * 2,
        1,
        figsize=(12, 3.2 * len(sensors)),
        sharex=False,
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1] * len(sensors)},
    )
    for i, sid in enumerate(sensors):
        rows = data[sid]
        ts = [r[0] for r in rows]
        ax_v, ax_s = axes[2 * i][0], axes[2 * i + 1][0]
        ax_v.plot(ts, [r[1] for r in rows], color="#222222", linewidth=0.8)
        _shade_levels(ax_v, ts, [r[3] for r in rows])
        ax_v.set_ylabel(unit or "value")
        ax_v.set_title(f"{sid}  (rule pack: {pack_name})", loc="left", fontsize=10)
        ax_s.plot(
            ts,
            [r[2] if r[2] is not None else float("nan") for r in rows],
            color="#6a3d9a",
            linewidth=0.7,
        )
        ax_s.set_ylim(-0.02, 1.02)
        ax_s.set_ylabel("score")
        for ax in (ax_v, ax_s):
            locator = ax.xaxis.get_major_locator()
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
            ax.grid(alpha=0.25)
    handles = [Patch(color=c, alpha=0.35, label=LEVEL_NAMES[k]) for k, c in LEVEL_COLOURS.items()]
    fig.legend(handles=handles, loc="upper right", ncol=4, title="alert level in force")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _shade_levels(ax: Any, ts: Sequence[datetime], levels: Sequence[int]) -> None:
    """Shade each run of a non-zero level in its colour."""
    start = None
    current = 0
    for idx, lvl in enumerate([*levels, 0]):
        if lvl != current:
            if current and start is not None:
                end = ts[min(idx, len(ts) - 1)]
                ax.axvspan(
                    ts[start],
                    end,
                    color=LEVEL_COLOURS[current],
                    alpha=0.3,
                    linewidth=0,
                )
            start, current = idx, lvl

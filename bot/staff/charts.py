"""Server-side charts: matplotlib figures rendered to inline SVG (no JavaScript, no CDN)."""
from __future__ import annotations

import io
import re
import threading

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import matplotlib.ticker  # noqa: E402

# pyplot keeps global state: one figure at a time per process (waitress serves on several threads).
_lock = threading.Lock()
COLOR = "#2f6f8f"
plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False,
                     "axes.spines.right": False})


def _svg(fig) -> str:  # noqa: ANN001 - a matplotlib Figure
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG is inlined in HTML
    # Unique ids per chart, so several inline SVGs on one page don't share clip paths.
    prefix = f"c{id(fig):x}"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", svg)


def bar_chart(labels: list[str], values: list[float], title: str, horizontal: bool = False,
              percent: bool = False) -> str:
    """A bar chart as an SVG string; an empty chart says 'no data yet'."""
    with _lock:
        fig, ax = plt.subplots(figsize=(6.4, 2.8 if not horizontal else max(2.0, 0.32 * len(labels) + 0.8)))
        ax.set_title(title, loc="left")
        if not labels:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="#777")
            ax.set_xticks([])
            ax.set_yticks([])
        elif horizontal:
            ax.barh(list(reversed(labels)), list(reversed(values)), color=COLOR)
        else:
            ax.bar(labels, values, color=COLOR)
            if len(labels) > 10:
                ax.tick_params(axis="x", labelrotation=60)
                for label in ax.get_xticklabels():
                    label.set_horizontalalignment("right")
        if percent and labels:
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        return _svg(fig)


def line_chart(labels: list[str], values: list[float], title: str, percent: bool = False) -> str:
    with _lock:
        fig, ax = plt.subplots(figsize=(6.4, 2.8))
        ax.set_title(title, loc="left")
        if labels:
            ax.plot(labels, values, color=COLOR, marker="o", markersize=3)
            ax.set_ylim(bottom=0)
            if len(labels) > 10:
                ax.tick_params(axis="x", labelrotation=60)
                for label in ax.get_xticklabels():
                    label.set_horizontalalignment("right")
            if percent:
                ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="#777")
            ax.set_xticks([])
            ax.set_yticks([])
        return _svg(fig)


def analytics_charts(numbers: dict) -> dict[str, str]:
    """Every chart of the analytics page, from queries.analytics()."""
    days = [d[5:] for d, _ in numbers["per_day"]]  # MM-DD
    return {
        "per_day": bar_chart(days, [n for _, n in numbers["per_day"]],
                             f"Conversations per day (last {numbers['days']} days, UTC)"),
        "per_channel": bar_chart([c for c, _ in numbers["per_channel"]],
                                 [n for _, n in numbers["per_channel"]],
                                 "Conversations per channel", horizontal=True),
        "topics": bar_chart([t for t, _ in numbers["top_topics"]], [n for _, n in numbers["top_topics"]],
                            "Top topics (conversations)", horizontal=True),
        "levels": bar_chart([lv for lv, _ in numbers["by_level"]], [n for _, n in numbers["by_level"]],
                            "Escalations by level"),
        "fallback": line_chart([d[5:] for d, _ in numbers["fallback_per_day"]],
                               [r for _, r in numbers["fallback_per_day"]],
                               "Share of conversations with a fallback, per day", percent=True),
    }

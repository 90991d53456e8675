"""The report chart: revenue per member as bars, completed orders as a second series (PNG).

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state). Callers run
`render` in a worker thread; a lock keeps two renders from sharing matplotlib's caches at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is imported on the first chart, not at start (≈50 MB)
    from matplotlib.figure import Figure

BAR_COLOR = "#4C78A8"
LINE_COLOR = "#F58518"
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str
    labels: tuple[str, ...]
    revenue: tuple[float, ...]  # rubles
    orders: tuple[int, ...]
    revenue_label: str
    orders_label: str


def _grouped(value: float, _position: object = None) -> str:
    return f"{value:,.0f}".replace(",", "\u00a0")


def build_figure(data: ChartData) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import TightLayoutEngine
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    count = len(data.labels)
    figure = Figure(figsize=(max(6.0, 1.0 + 0.9 * count), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(count))
    axes.bar(positions, data.revenue, color=BAR_COLOR, label=data.revenue_label)
    axes.set_ylabel(data.revenue_label)
    axes.yaxis.set_major_formatter(FuncFormatter(_grouped))
    rotate = count > 4
    axes.set_xticks(
        positions, data.labels, rotation=30 if rotate else 0, ha="right" if rotate else "center"
    )
    # A fixed title position: no x tick labels on top to dodge, and the automatic one measures
    # every y tick label again on each draw.
    axes.set_title(data.title, y=1.0)
    orders = axes.twinx()
    # Members are categories, not a sequence: markers without a connecting line.
    orders.plot(
        positions,
        data.orders,
        color=LINE_COLOR,
        marker="D",
        markersize=9,
        linestyle="none",
        label=data.orders_label,
    )
    for x, value in zip(positions, data.orders, strict=True):
        orders.annotate(
            str(value),
            (x, value),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            color=LINE_COLOR,
        )
    orders.set_ylabel(data.orders_label)
    orders.set_ylim(bottom=0, top=max(data.orders, default=0) * 1.15 + 1)
    orders.yaxis.set_major_locator(MaxNLocator(integer=True))
    handles = axes.get_legend_handles_labels()
    more = orders.get_legend_handles_labels()
    axes.legend(handles[0] + more[0], handles[1] + more[1], loc="upper right", fontsize="small")
    # Room for long rotated names. Unlike figure.tight_layout(), running the engine once leaves
    # none on the figure, so savefig does not lay everything out again before drawing.
    TightLayoutEngine().execute(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render(data: ChartData) -> bytes:
    """Blocking (tens to hundreds of ms): call it via asyncio.to_thread."""
    with _lock:
        return png_bytes(build_figure(data))

"""The report chart for a phone screen: revenue per member as horizontal bars (PNG).

One scale: revenue, the bars' length, with the value written after each bar (so no axis is
drawn). The members' completed orders are part of the label above each bar ("Мария Иванова ·
12 заказов"), not a second series on a second scale. Sized so that the
text reads on a 6-inch screen where Telegram shows the picture about 360 points wide; the title
is short and the period is in the caption.

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
TEXT_COLOR = "#222222"
WIDTH_INCHES = 5.0  # with DPI: 600 pixels wide, text about 3.5 % of the width
DPI = 120
FONT_SIZE = 13
ROW_INCHES = 0.62  # one member: the label line and the bar under it
TITLE_INCHES = 0.55
NAME_CHARS = 34  # a longer label is cut with "…" to stay on the picture
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str  # short: it must fit the width; the period goes into the caption
    labels: tuple[str, ...]  # a member's name and their completed orders: "Мария · 12 заказов"
    revenue: tuple[float, ...]  # rubles
    values: tuple[str, ...]  # the revenue as written on each bar
    orders: tuple[int, ...]


def height_inches(count: int) -> float:
    return TITLE_INCHES + 0.2 + ROW_INCHES * max(count, 2)


def _short(label: str) -> str:
    return label if len(label) <= NAME_CHARS else label[: NAME_CHARS - 1] + "…"


def build_figure(data: ChartData) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(data.labels)
    height = height_inches(count)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    # Fixed margins in inches (no layout engine: nothing is measured again on each draw).
    top, bottom = TITLE_INCHES / height, 0.15 / height
    axes = figure.add_axes((0.04, bottom, 0.92, 1 - top - bottom))
    # Each member's row, top to bottom: the name and the orders above, the bar with its value.
    rows = range(count)
    positions = [count - 1 - i for i in rows]
    bars = axes.barh(positions, data.revenue, color=BAR_COLOR, height=0.38, align="edge")
    axes.bar_label(
        bars,
        labels=list(data.values),
        padding=5,
        fontsize=FONT_SIZE,
        fontweight="bold",
        color=TEXT_COLOR,
    )
    for i in rows:
        axes.text(
            0,
            positions[i] + 0.48,
            _short(data.labels[i]),
            fontsize=FONT_SIZE,
            color=TEXT_COLOR,
            va="bottom",
        )
    widest = max(data.revenue, default=0) or 1
    axes.set_xlim(0, widest * 1.4)  # room for the value after the longest bar
    axes.set_ylim(-0.1, count)
    axes.set_axis_off()
    figure.text(
        0.04,
        1 - 0.12 / height,
        data.title,
        fontsize=FONT_SIZE + 2,
        fontweight="bold",
        color=TEXT_COLOR,
        va="top",
    )
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render(data: ChartData) -> bytes:
    """Blocking (tens to hundreds of ms): call it via asyncio.to_thread."""
    with _lock:
        return png_bytes(build_figure(data))

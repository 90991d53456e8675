"""The report chart for a phone screen: revenue per member as horizontal bars (PNG).

One scale: revenue, the bars' length, with the value written after each bar (so no axis is
drawn). The members' completed orders are part of the label above each bar ("Мария Иванова ·
12 заказов"), not a second series on a second scale. Sized so that the text reads on a 6-inch
screen where Telegram shows the picture about 360 points wide; the title is short and the period
is in the caption.

`layout` places every bar and text in pixels (pure, what the tests read); `render` draws that
with Pillow in DejaVu Sans (core/fonts.py). A handful of rectangles and lines of text need no
plotting library: matplotlib drew the same picture in ≈100 ms of CPU and kept ≈60 MB resident
after the first chart. Callers run `render` in a worker thread; a lock keeps two renders from
sharing a font's FreeType face at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import TYPE_CHECKING

from core.fonts import dejavu_sans

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

BAR_COLOR = "#4C78A8"
TEXT_COLOR = "#222222"
BACKGROUND = "#FFFFFF"
WIDTH_INCHES = 5.0  # with DPI: 600 pixels wide, text about 3.5 % of the width
DPI = 120
FONT_SIZE = 13  # points
ROW_INCHES = 0.62  # one member: the label line and the bar under it
TITLE_INCHES = 0.55
NAME_CHARS = 34  # a longer label is cut with "…" to stay on the picture
BAR_SHARE = 0.38  # of a row: the bar; the label sits above it
ROOM = 1.4  # the scale's end over the longest bar: room for its value
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ChartData:
    title: str  # short: it must fit the width; the period goes into the caption
    labels: tuple[str, ...]  # a member's name and their completed orders: "Мария · 12 заказов"
    revenue: tuple[float, ...]  # rubles
    values: tuple[str, ...]  # the revenue as written on each bar
    orders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Bar:
    box: tuple[float, float, float, float]  # left, top, right, bottom in pixels
    revenue: float


@dataclass(frozen=True, slots=True)
class Text:
    at: tuple[float, float]
    text: str
    bold: bool
    size: float  # points
    anchor: str  # Pillow's: "la" top left, "ld" bottom left, "lm" middle left


@dataclass(frozen=True, slots=True)
class Picture:
    width: int
    height: int
    bars: tuple[Bar, ...]
    texts: tuple[Text, ...]


def height_inches(count: int) -> float:
    return TITLE_INCHES + 0.2 + ROW_INCHES * max(count, 2)


def _short(label: str) -> str:
    return label if len(label) <= NAME_CHARS else label[: NAME_CHARS - 1] + "…"


def layout(data: ChartData) -> Picture:
    """Where everything goes. Rows top to bottom in the order given: the label, then the bar
    from the left margin, its length the revenue on one scale, the value written after it."""
    count = len(data.labels)
    width, height = int(WIDTH_INCHES * DPI), int(height_inches(count) * DPI)
    left, right = 0.04 * width, 0.96 * width
    top, bottom = TITLE_INCHES * DPI, height - 0.15 * DPI
    rows = count + 0.1  # a tenth of a row below the last bar
    widest = max(data.revenue, default=0) or 1

    def y(row: float) -> float:  # rows count up from the bottom, as on a plot
        return bottom - (row + 0.1) / rows * (bottom - top)

    def x(revenue: float) -> float:
        return left + revenue / (widest * ROOM) * (right - left)

    padding = 5 * DPI / 72
    bars, texts = [], [Text((left, 0.12 * DPI), data.title, True, FONT_SIZE + 2, "la")]
    for i in range(count):
        row = count - 1 - i
        bar = Bar((left, y(row + BAR_SHARE), x(data.revenue[i]), y(row)), data.revenue[i])
        bars.append(bar)
        texts.append(Text((left, y(row + 0.48)), _short(data.labels[i]), False, FONT_SIZE, "ld"))
        middle = (bar.box[1] + bar.box[3]) / 2
        texts.append(Text((bar.box[2] + padding, middle), data.values[i], True, FONT_SIZE, "lm"))
    return Picture(width, height, tuple(bars), tuple(texts))


@cache
def _font(bold: bool, size: float) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(dejavu_sans(bold=bold)), size * DPI / 72)


def png(picture: Picture) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (picture.width, picture.height), BACKGROUND)
    pen = ImageDraw.Draw(image)
    for bar in picture.bars:
        pen.rectangle(bar.box, fill=BAR_COLOR)
    for text in picture.texts:
        pen.text(
            text.at,
            text.text,
            fill=TEXT_COLOR,
            font=_font(text.bold, text.size),
            anchor=text.anchor,
        )
    buffer = BytesIO()
    image.save(buffer, format="PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def render(data: ChartData) -> bytes:
    """Blocking (a few ms): call it via asyncio.to_thread."""
    with _lock:
        return png(layout(data))

"""The one font ShopDesk draws and prints with: DejaVu Sans (Cyrillic, ₽), as matplotlib ships
it. Found on disk without importing matplotlib (importing it costs ≈20 MB of resident memory
that a chart or an invoice does not need)."""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path


@cache
def font_dir() -> Path:
    """The folder of matplotlib's bundled TrueType fonts."""
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib, which ships the DejaVu fonts, is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def dejavu_sans(*, bold: bool = False) -> Path:
    return font_dir() / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")

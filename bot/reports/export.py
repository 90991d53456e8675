"""CSV files for spreadsheets: UTF-8 with a BOM, separators as the reader's language expects.

Russian spreadsheet programs split on ';' and read '4500,00' as a number; English ones expect
',' and '4500.00'. Text cells that a spreadsheet would run as a formula are quoted with "'".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CsvStyle:
    delimiter: str
    decimal: str


STYLES = {"ru": CsvStyle(";", ","), "en": CsvStyle(",", ".")}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def style_for(locale: str) -> CsvStyle:
    return STYLES.get(locale, STYLES["en"])


def amount(kopecks: int, style: CsvStyle) -> str:
    """Kopecks as a plain number of rubles: 450000 → '4500,00' (ru) or '4500.00' (en)."""
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    return f"{sign}{rubles}{style.decimal}{kop:02d}"


def tenths(value: int, style: CsvStyle) -> str:
    """Tenths of a percent as a number: 692 → '69,2'."""
    return f"{value // 10}{style.decimal}{value % 10}"


def text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[object]], style: CsvStyle) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")

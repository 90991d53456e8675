"""The wheel carries the compiled message catalogs: `locales/*/LC_MESSAGES/messages.po` (the
sources, at the top of the repository) are compiled into `bot/locales/…/messages.mo` inside the
built package, so an installed ShopDesk finds its texts wherever it runs (bot/i18n.py).

Everything else is declared in pyproject.toml; this file only adds that build step.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

SOURCES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads (and compiles) the catalogs in locales/ itself
        for po, mo in self._catalogs():
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return [*outputs, *(str(mo) for _, mo in self._catalogs())]

    def _catalogs(self) -> list[tuple[Path, Path]]:
        target = Path(self.build_lib) / "bot" / "locales"
        pos = sorted(SOURCES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        if not pos:
            raise SystemExit(f"no message catalogs under {SOURCES}: cannot build ShopDesk")
        return [(po, target / po.relative_to(SOURCES).with_suffix(".mo")) for po in pos]


setup(cmdclass={"build_py": BuildWithCatalogs})

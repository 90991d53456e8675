"""`python -m bench [--quick] [--only STEP …] [--<size> N]`: the benchmarks of bench/run.py.

This is the bench's entry point, as shopdesk/cli.py is the bot's: it installs the deferred
building of aiogram's models (bot/lazy_types.py) before anything imports aiogram, so the bench
process holds what a running bot holds (eager models alone are ≈50 MB more at import, and they
were the bench's "peak RSS" without it).
"""

from __future__ import annotations

import asyncio
import sys

from bot import lazy_types


def main(argv: list[str] | None = None) -> int:
    lazy_types.install()
    from bench import run  # imports aiogram: after install()

    return asyncio.run(run.main(run.parse(argv)))


if __name__ == "__main__":
    sys.exit(main())

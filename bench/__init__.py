"""ShopDesk benchmarks (bench/run.py)."""

import bot  # noqa: F401  (before bench.run imports aiogram: its models are built lazily)

"""ShopDesk benchmarks (bench/run.py)."""

from bot.lazy_types import install

install()  # before bench.run imports aiogram: its models are built on first use, as in the bot

"""ShopDesk Telegram adapter (aiogram 3): routers, middlewares, rendering. No business rules."""

from bot import lazy_types

# Before any module of this package imports aiogram: its models are built on first use.
lazy_types.install()

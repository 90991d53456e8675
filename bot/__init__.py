"""ShopDesk Telegram adapter (aiogram 3): routers, middlewares, rendering. No business rules.

Importing it has no side effects: entry points call `bot.lazy_types.install()` themselves.
"""

"""ShopDesk Telegram adapter (aiogram 3): routers, middlewares, rendering. No business rules."""

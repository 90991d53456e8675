"""ShopDesk HTTP adapter (aiohttp): the intake API, the Telegram webhook, health and metrics.

It imports core only; shopdesk/app.py hands it a WebDeps (web/deps.py).
"""

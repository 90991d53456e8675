"""The order board as a Telegram Mini App: static page at /app/, JSON API at /app/api/."""

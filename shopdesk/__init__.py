"""The composition root: builds core, the Telegram adapter (bot/) and the HTTP adapter (web/)."""

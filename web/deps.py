"""Keys of the aiohttp application shared by the bot's HTTP routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

APP: web.AppKey[App] = web.AppKey("shopdesk_app")

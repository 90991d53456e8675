"""A notification that sets a chat's menu button instead of sending a message."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import MenuButtonDefault, MenuButtonWebApp


@dataclass(frozen=True, slots=True)
class ChatMenu:
    """The menu button the chat gets (`setChatMenuButton` for that chat); None: nothing to
    set (the board is off), and nothing is sent."""

    button: MenuButtonWebApp | MenuButtonDefault | None

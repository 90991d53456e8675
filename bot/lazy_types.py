"""Builds aiogram's pydantic models on first use instead of all at import (≈100 MB less RSS).

aiogram's models are declared with `defer_build=True`, but `aiogram/types/__init__.py` then calls
`model_rebuild()` on every one of its ~300 types, so pydantic-core builds a validator and a
serializer for each at import — including types a bot never receives (payments, business
accounts, gifts…). Importing aiogram costs ≈166 MB RSS that way; the bot uses a few dozen types.

Each entry point calls `install()` before aiogram is first imported (shopdesk/cli.py for
`python -m bot`, tests/conftest.py, bench/__main__.py); importing `bot` alone patches nothing. While
aiogram.types is imported, `model_rebuild(_types_namespace=…)` only records that namespace;
afterwards every type and method gets it as its parent namespace, so pydantic builds a model,
with its forward references resolved, the first time it validates or serializes one — what
`defer_build` means.
A self-check then parses an update and a Bot API response; if this pydantic or aiogram behaves
otherwise, every model is built eagerly as aiogram intends (more memory, same behaviour).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def install() -> bool:
    """Imports aiogram with deferred model builds; False if aiogram was already imported."""
    if "aiogram.types" in sys.modules:
        return False
    from pydantic import BaseModel

    rebuild = BaseModel.__dict__["model_rebuild"]
    namespaces: list[dict[str, Any]] = []

    def record(cls, *args: Any, _types_namespace: Any = None, **kwargs: Any) -> bool | None:
        if _types_namespace is None:
            return rebuild.__func__(cls, *args, **kwargs)
        if not namespaces:
            namespaces.append(dict(_types_namespace))
        return None

    BaseModel.model_rebuild = classmethod(record)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.methods
        import aiogram.types
    finally:
        BaseModel.model_rebuild = rebuild  # type: ignore[method-assign]
    if not namespaces:  # this aiogram no longer rebuilds at import: nothing to defer
        return False
    models = _models(aiogram.types, aiogram.methods)
    shared = namespaces[0]  # one dict for all: a copy per model was ≈8 MB resident
    for model in models:
        own = model.__pydantic_parent_namespace__
        model.__pydantic_parent_namespace__ = {**shared, **own} if own else shared
    try:
        _self_check()
    except Exception:
        log.warning("lazy aiogram models failed their self-check; building all now", exc_info=True)
        for model in models:
            model.model_rebuild(force=True, _types_namespace=namespaces[0])
    return True


def _models(*modules: Any) -> list[type]:
    from pydantic import BaseModel

    found = []
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseModel):
                found.append(value)
    return found


def _self_check() -> None:
    """An update, an outgoing method with a keyboard and its response go through pydantic."""
    from aiogram.methods import SendMessage
    from aiogram.methods.base import Response
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update

    user = {"id": 1, "is_bot": False, "first_name": "check"}
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "x"}
    update = Update.model_validate({"update_id": 1, "message": {**message, "from": user}})
    assert update.message is not None and update.message.from_user is not None
    button = InlineKeyboardButton(text="x", callback_data="x")
    method = SendMessage(
        chat_id=1, text="x", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )
    method.model_dump(warnings=False)
    Response[method.__returning__].model_validate({"ok": True, "result": message})

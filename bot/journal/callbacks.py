from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class SvcOp(StrEnum):
    LIST = "list"
    CARD = "card"
    RENEW_ON = "on"
    RENEW_OFF = "off"
    RETURN = "ret"  # ask to confirm
    RETURN_YES = "rety"
    DISCONNECT = "disc"  # ask to confirm
    DISCONNECT_YES = "discy"
    SET_UP = "setup"
    LOG = "log"


class SvcCb(CallbackData, prefix="sv"):
    op: SvcOp
    service_id: int = 0
    version: int = 0  # the state the confirmation was shown for


class CatalogOp(StrEnum):
    LIST = "list"
    PICK = "pick"
    BUY = "buy"


class CatalogCb(CallbackData, prefix="ct"):
    op: CatalogOp
    code: str = ""
    nonce: str = ""  # one confirmation screen: pressing it twice orders once

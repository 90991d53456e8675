from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class FormAction(StrEnum):
    CONFIRM = "ok"
    CANCEL = "no"


class TopUpFormCb(CallbackData, prefix="tuf"):
    """The /topup dialog's buttons."""

    action: FormAction

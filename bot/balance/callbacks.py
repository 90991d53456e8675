from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class FormAction(StrEnum):
    CONFIRM = "ok"
    CANCEL = "no"
    INVOICE = "inv"  # not paid yet: an invoice for the amount instead


class TopUpFormCb(CallbackData, prefix="tuf"):
    """The /topup dialog's buttons."""

    action: FormAction

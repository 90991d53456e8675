from aiogram.filters.callback_data import CallbackData


class InvoiceCb(CallbackData, prefix="bill"):
    months: int


class PlanCb(CallbackData, prefix="plan"):
    code: str  # the tariff to change to, after the preview


class PlanCancel(CallbackData, prefix="planno"):
    pass


class PrepayFormCb(CallbackData, prefix="ppf"):
    """The /prepay dialog's buttons: a period (months), Confirm (months 0), Cancel, or an
    invoice to pay instead of recording a payment."""

    months: int = 0
    cancel: bool = False
    invoice: bool = False

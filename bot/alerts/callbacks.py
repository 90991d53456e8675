from aiogram.filters.callback_data import CallbackData


class TopUpCb(CallbackData, prefix="topup"):
    """The Top up button of an alert: the balance and how to record a payment."""

    amount: int = 0  # kopecks suggested (the shortfall); 0: none

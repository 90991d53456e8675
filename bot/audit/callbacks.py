from aiogram.filters.callback_data import CallbackData


class HistoryPage(CallbackData, prefix="hist"):
    page: int
    member_id: int = 0  # 0: everyone

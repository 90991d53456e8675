from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="lang"):
    locale: str

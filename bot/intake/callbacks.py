from aiogram.filters.callback_data import CallbackData


class CsvConfirm(CallbackData, prefix="csv"):
    accept: bool

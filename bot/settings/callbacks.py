from aiogram.filters.callback_data import CallbackData


class SettingCb(CallbackData, prefix="cfg"):
    """/settings: change the setting `key` (bot/settings/registry.py)."""

    key: str

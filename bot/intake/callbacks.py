from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup


class CsvConfirm(CallbackData, prefix="csv"):
    accept: bool


class CsvImport(StatesGroup):
    confirm = State()  # a file with bad rows waits for "import the valid rows"

from aiogram.filters.callback_data import CallbackData


class ConnectorOp(CallbackData, prefix="conn"):
    op: str  # pause, resume, rotate, delete, confirm_delete
    id: int

from aiogram.filters.callback_data import CallbackData


class InvoicePdfCb(CallbackData, prefix="invpdf"):
    invoice_id: int  # the core checks it is the pressing member's account's

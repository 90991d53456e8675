"""Texts of /apitoken and of the CSV import."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.errors import error_text
from bot.format import q
from bot.intake.callbacks import CsvConfirm
from core.intake.csv_import import ImportSummary
from core.intake.tokens import IssuedToken
from core.settings import Settings


def token_issued(issued: IssuedToken, settings: Settings) -> str:
    url = f"http://{settings.http_host}:{settings.http_port}/api/v1/orders"
    lines = [
        _(
            "🔑 The intake API token of {account} (shown only now — store it in your shop's "
            "settings):"
        ).format(account=q(issued.account_name)),
        f"<code>{issued.token}</code>",
        _("Send orders to {url} with the header Authorization: Bearer &lt;token&gt;.").format(
            url=q(url)
        ),
    ]
    if issued.rotated:
        lines.append(_("The previous token no longer works."))
    return "\n".join(lines)


def token_revoked() -> str:
    return _("The API token is revoked: the store can't send orders until you create a new one.")


def token_usage() -> str:
    return _("Usage: /apitoken — create or rotate the token; /apitoken revoke — revoke it.")


SHOWN_ROWS = 15


def csv_only() -> str:
    return _(
        "I import orders from .csv files. Columns: number, customer, total (required); phone, "
        "email, address, currency, comment, external_id, created_at (optional). Delimiter ; or "
        ", — encoding UTF-8 or Windows-1251."
    )


def _more(count: int) -> str:
    return "  " + _("…and {count} more").format(count=count)


def csv_summary(
    summary: ImportSummary, file_name: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [f"📄 <b>{q(file_name)}</b>"] if file_name else []
    lines.append(
        _("Imported: {imported} · duplicates skipped: {duplicates} · rejected: {rejected}").format(
            imported=len(summary.imported),
            duplicates=len(summary.duplicates),
            rejected=len(summary.rejected),
        )
    )
    if summary.rejected:
        lines.append(_("Rejected rows:"))
        for bad in summary.rejected[:SHOWN_ROWS]:
            lines.append(
                "  " + _("row {row}: {reason}").format(row=bad.row, reason=error_text(bad.error))
            )
        if len(summary.rejected) > SHOWN_ROWS:
            lines.append(_more(len(summary.rejected) - SHOWN_ROWS))
    if summary.duplicates:
        lines.append(_("Skipped as duplicates (already in the account or repeated in the file):"))
        rows = ", ".join(
            _("row {row} (№{number})").format(row=d.row, number=q(d.number))
            for d in summary.duplicates[:SHOWN_ROWS]
        )
        lines.append("  " + rows)
        if len(summary.duplicates) > SHOWN_ROWS:
            lines.append(_more(len(summary.duplicates) - SHOWN_ROWS))
    markup = None
    if summary.needs_confirmation:
        lines.append(
            ngettext(
                "⚠️ Nothing is imported yet: some rows are wrong. Import the {valid} valid row "
                "anyway, or fix the file and send it again.",
                "⚠️ Nothing is imported yet: some rows are wrong. Import the {valid} valid rows "
                "anyway, or fix the file and send it again.",
                summary.valid,
            ).format(valid=summary.valid)
        )
        lines.append(
            _(
                "The file waits for your answer for a day; other commands and dialogs meanwhile "
                "don't cancel it."
            )
        )
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=ngettext(
                            "✅ Import {valid} row", "✅ Import {valid} rows", summary.valid
                        ).format(valid=summary.valid),
                        callback_data=CsvConfirm(accept=True).pack(),
                    ),
                    InlineKeyboardButton(
                        text=_("✖ Cancel"), callback_data=CsvConfirm(accept=False).pack()
                    ),
                ]
            ]
        )
    elif not summary.imported:
        lines.append(_("Nothing to import."))
    return "\n".join(lines), markup


def csv_cancelled() -> str:
    return _("Import cancelled: nothing was saved.")


def csv_expired() -> str:
    return _("This import waited more than a day and has expired. Send the file again.")


def csv_not_pending() -> str:
    return _("This import is no longer waiting. Send the file again.")

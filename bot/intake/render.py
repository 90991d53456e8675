"""Texts of /apitoken and of the CSV import."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.format import q
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

"""Texts of /connect, /connectors and /statushook."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.connectors.callbacks import ConnectorOp
from bot.format import q, when
from core.connectors.service import ConnectorView, Issued
from core.connectors.status_hooks import HookSet, PostView

TITLES = {
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "ecwid": "Ecwid",
    "tilda": "Tilda",
    "insales": "InSales",
}

# Where to paste the URL (and the secret) in each platform's admin.
STEPS = {
    "shopify": __(
        "In Shopify: Settings → Notifications → Webhooks → Create webhook. Event: Order "
        "creation, then again for Order update and Order cancellation; format JSON; URL: the "
        "one above. The signing key is shown under the list of webhooks."
    ),
    "woocommerce": __(
        "In WordPress: WooCommerce → Settings → Advanced → Webhooks → Add webhook. Topic: "
        "Order created (and a second one for Order updated); Delivery URL: the one above; "
        "Secret: the one above; API version: the latest. Save: WooCommerce sends a test ping."
    ),
    "ecwid": __(
        "In your Ecwid app's settings (Ecwid → Apps → your app): Webhook URL: the one above; "
        "events order.created and order.updated."
    ),
    "tilda": __(
        "In Tilda: Site settings → Forms → Webhook. Paste the URL above and press Add: Tilda "
        "sends a test. Then switch the webhook on in the form's (or cart's) settings."
    ),
    "insales": __(
        "In InSales: Settings → Webhooks (or via the API): address: the URL above, format "
        "JSON, topics orders/create and orders/update."
    ),
}

ASKS = {
    "shopify": __(
        "Shopify signs its webhooks with a key it shows under Settings → Notifications → "
        "Webhooks (“Your webhooks will be signed with …”). Send it: /connect shopify KEY"
    ),
    "ecwid": __(
        "Ecwid needs three values from your app's page (Ecwid → Apps → My apps): the store id, "
        "the secret token and the client secret. Send them: "
        "/connect ecwid STORE_ID SECRET_TOKEN CLIENT_SECRET"
    ),
}


def usage() -> str:
    return _(
        "Connect a shop: /connect shopify, /connect woocommerce, /connect ecwid, "
        "/connect tilda or /connect insales. Its orders then arrive by themselves. "
        "See your connectors with /connectors."
    )


def asks(platform: str) -> str:
    return str(ASKS[platform])


def issued(result: Issued) -> str:
    lines = [
        _("🔌 {platform} connector #{id}.").format(
            platform=TITLES[result.platform], id=result.connector_id
        ),
        _("URL to paste:"),
        f"<code>{q(result.url)}</code>",
    ]
    if result.secret:
        lines += [_("Secret (shown only now):"), f"<code>{q(result.secret)}</code>"]
    if result.rotated:
        lines.append(_("The previous secret no longer works."))
    lines += ["", str(STEPS[result.platform])]
    return "\n".join(lines)


def _row(view: ConnectorView, timezone: str) -> str:
    state = "⏸" if view.status == "paused" else "🟢"
    last = when(view.last_delivery_at, timezone) if view.last_delivery_at else "—"
    lines = [
        f"{state} <b>#{view.id} {TITLES.get(view.platform, view.platform)}</b>",
        _("Last delivery: {when}").format(when=last),
        _("Orders: {count}").format(count=view.orders_count),
    ]
    if view.pending:
        lines.append(_("Waiting to be applied: {count}").format(count=view.pending))
    if view.last_test_at:
        lines.append(_("Test received: {when}").format(when=when(view.last_test_at, timezone)))
    if view.last_error:
        at = when(view.last_error_at, timezone) if view.last_error_at else ""
        lines.append(_("Last error: {error} ({when})").format(error=q(view.last_error), when=at))
    return "\n".join(lines)


def _post(post: PostView, timezone: str) -> str:
    icon = {"sent": "✅", "failed": "❌"}.get(post.status, "⏳")
    code = f" HTTP {post.last_code}" if post.last_code else ""
    return f"{icon} {when(post.created_at, timezone)} №{q(post.number)} {q(post.event)}{code}"


def connectors(
    views: list[ConnectorView],
    hook_url: str | None,
    posts: list[PostView],
    timezone: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not views:
        lines = [_("No connectors yet."), usage()]
    else:
        lines = [_("🔌 <b>Connectors</b>")]
        for view in views:
            lines += ["", _row(view, timezone)]
    lines.append("")
    if hook_url:
        lines.append(_("Status webhook: {url}").format(url=q(hook_url)))
        lines += [_post(p, timezone) for p in posts]
    else:
        lines.append(_("Status webhook: off (/statushook URL sends status changes to your shop)."))
    rows = []
    for view in views:
        toggle = "resume" if view.status == "paused" else "pause"
        rows.append(
            [
                InlineKeyboardButton(
                    text=(_("▶ Resume #{id}") if toggle == "resume" else _("⏸ Pause #{id}")).format(
                        id=view.id
                    ),
                    callback_data=ConnectorOp(op=toggle, id=view.id).pack(),
                ),
                InlineKeyboardButton(
                    text=_("🔄 Rotate"), callback_data=ConnectorOp(op="rotate", id=view.id).pack()
                ),
                InlineKeyboardButton(
                    text=_("🗑 Delete"), callback_data=ConnectorOp(op="delete", id=view.id).pack()
                ),
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def confirm_delete(connector_id: int) -> tuple[str, InlineKeyboardMarkup]:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🗑 Yes, delete"),
                    callback_data=ConnectorOp(op="confirm_delete", id=connector_id).pack(),
                )
            ]
        ]
    )
    text = _("Delete connector #{id}? Its URL stops working; the orders it brought stay.").format(
        id=connector_id
    )
    return text, markup


def deleted(connector_id: int) -> str:
    return _("Connector #{id} is deleted.").format(id=connector_id)


def rotate_pasted(view_platform: str, connector_id: int) -> str:
    return _(
        "{platform} issues this key itself: make a new one there and send it with "
        "/connect rotate {id} KEY"
    ).format(platform=TITLES[view_platform], id=connector_id)


def hook_set(result: HookSet) -> str:
    return "\n".join(
        [
            _("📤 Status changes and assignments are now POSTed to {url}.").format(
                url=q(result.url)
            ),
            _("Signing secret (shown only now), for the X-ShopDesk-Signature header:"),
            f"<code>{q(result.secret)}</code>",
        ]
    )


def hook_removed(removed: bool) -> str:
    return _("The status webhook is off.") if removed else _("There is no status webhook.")


def hook_usage() -> str:
    return _("Usage: /statushook https://your-shop.example/shopdesk — or /statushook off.")

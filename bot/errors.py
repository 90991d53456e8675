"""The one place domain errors become localized replies; anything unexpected gets an apology."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.format import day, money, q
from bot.routing import FeatureRouter
from core.errors import DomainError

log = logging.getLogger(__name__)

MESSAGES = {
    "permission_denied": __("You don't have permission for this."),
    "self_action": __("You can't do that to yourself."),
    "owner_protected": __("Nobody can block, demote or remove the account owner."),
    "admin_protected": __("Only the owner can block, demote or remove another admin."),
    "owner_role": __(
        "The owner role can't be given out. The owner can hand it over with /transfer."
    ),
    "owner_only": __("Only the account owner can do this."),
    "role_too_high": __("You can't give the role {role}: it has permissions you don't hold."),
    "member_not_found": __("No such member in your account: {ref}. See /users."),
    "role_not_found": __("No such role: {role}. See /roles."),
    "member_ref": __("Name a member as @username or by Telegram id, e.g. /block @anna."),
    "page_gone": __("That page no longer exists. Open the list again."),
    "already_blocked": __("{name} is already blocked."),
    "not_blocked": __("{name} is not blocked."),
    "same_role": __("The member already has the role {role}."),
    "member_blocked": __("{name} is blocked; unblock them first."),
    "locale": __("Unknown language {locale}. Choose ru or en."),
    "reason_too_long": __("The reason is too long: at most {limit} characters."),
    "invite_unknown": __("This invite link is not valid. Ask your admin for a new one."),
    "invite_used": __("This invite link has already been used. Ask your admin for a new one."),
    "invite_expired": __("This invite link has expired. Ask your admin for a new one."),
    "already_member": __("You are already a member of {account}. See /help."),
    "member_elsewhere": __(
        "You are already a member of {account}. Ask its admin to remove you before joining "
        "another account."
    ),
    "role_code": __(
        "A role name is 2–30 letters (any alphabet), digits, _ or -, starting with a letter, "
        "and not a built-in role: {role}"
    ),
    "role_base_owner": __("A custom role can't be based on the owner role."),
    "perm_change": __("Write permission changes as +name or -name (see /roles): {change}"),
    "role_exists": __("The role {role} already exists."),
    "account_name": __("The account name must be 1–200 characters."),
    "telegram_id": __("A Telegram id is a positive number."),
    "timezone": __("Unknown time zone {value}, e.g. Europe/Moscow."),
    "tariff_unknown": __("Unknown tariff {tariff}. Choose one of: {known}."),
    "same_tariff": __("The account is already on the tariff {tariff}."),
    "invoice_months": __("An invoice covers {allowed} months."),
    "reference_too_long": __("The payment reference is too long: at most {limit} characters."),
    "account_read_only": __(
        "The account's paid period has ended, so it is read-only until the owner renews it "
        "(/invoice, /prepay); paying still works, top-ups too (/topup)."
    ),
    "invite_unconfirmed": __(
        "This invite needs your admin's confirmation again: the account's paid seats have "
        "changed since it was created. Ask them for a new link."
    ),
    "invite_read_only": __(
        "{account} can't take new members right now: its paid period has ended. Try again "
        "after the owner renews it."
    ),
    "account_not_found": __("No account with id {account}."),
    "balance_short": __(
        "Not enough money on the balance: it holds {balance}, {price} is needed — short by "
        "{shortfall}. The owner can top it up with /topup."
    ),
    "reference_used": __(
        "Payment {reference} is already recorded, for {amount}: one reference credits only once."
    ),
    "amount_positive": __("The amount must be above zero, e.g. /topup 5000."),
    "amount_too_large": __("One top-up can't exceed {amount}. Check the amount."),
    # amounts as typed (core/money.py)
    "money_format": __(
        "Can't read the amount {value}. Write rubles like 12500, 12 500,50 or 12500.50: digits "
        "grouped by three with spaces, kopecks after a comma or point."
    ),
    "money_ambiguous": __(
        "{value} can be read two ways: {thousands} or {decimal}. Write {thousands_text} for the "
        "first or {decimal_text} for the second: kopecks take two digits, and only spaces group "
        "thousands."
    ),
    "money_too_large": __("The amount {value} is too large: at most {maximum}."),
    "money_or_reference": __(
        "Is {value} the amount {amount}, or {head} with the payment reference {reference}? "
        "Write /topup {amount_text} for the first or /topup {head_text},00 {reference} for the "
        "second."
    ),
    "catalog_item_not_found": __("There is no service {service} in the catalog. See /services."),
    "service_not_found": __("No such service in your account. See /services."),
    "request_key": __("This button is no longer valid. Open /services again."),
    "pool_empty": __("No free tracking numbers are left right now. Please contact support."),
    "pool_busy": __("The numbers were taken a moment ago by another order. Please try again."),
    "service_changed": __("The service has changed since this screen was shown. Open it again."),
    "service_not_open": __("The service is not running, so auto-renew can't be changed."),
    "not_returnable": __("Only a suspended or disconnected service can be returned."),
    "return_window_closed": __(
        "The 14-day return window closed on {closed_on}. Order the service again from the catalog."
    ),
    "already_disconnected": __("The service is already disconnected."),
    "not_pending": __("The service is already set up."),
    # orders
    "order_gone": __("This order no longer exists in your account. Open /orders again."),
    "order_not_found": __("No order №{number} in your account. See /orders."),
    "find_query": __(
        "Write what to find: an order number, a phone or a name (up to {limit} characters)."
    ),
    "order_number_lookup": __(
        "“{value}” is not an order number. Write just the number, e.g. /order 10200, "
        "or search with /find."
    ),
    "order_hidden": __(
        "Order №{number} is assigned to {holder}; your role shows only your own orders."
    ),
    "order_number_taken": __("Order №{number} already exists. Use another number."),
    "customer_not_found": __("No customer #{ref} in your account. Find them with /find."),
    "customer_hidden": __(
        "This customer's details are shown to whoever works on their orders; you have none of them."
    ),
    "customers_same": __("That is one and the same customer (#{ref}): name two different ones."),
    "external_id_conflict": __(
        "An order with external_id {external_id} was received before with other values in: "
        "{fields}. A repeat must carry the same values; a stored order is not changed here."
    ),
    "order_closed": __("Order №{number} is already completed or cancelled."),
    "blocked_cannot_claim": __("Blocked members can't claim orders."),
    "order_unassigned": __("Order №{number} has no assignee."),
    "cannot_work_orders": __("{name}'s role can't work on orders."),
    "already_assignee": __("{name} already has order №{number}."),
    "order_changed": __("Order №{number} was changed meanwhile. Open it again and retry."),
    "order_status": __("Unknown order status {status}."),
    "order_not_yours": __(
        "Order №{number} isn't assigned to you: only its assignee or an admin changes its status."
    ),
    "reopen_admins_only": __("Only an admin can reopen order №{number}."),
    "status_transition": __("Order №{number} can't move to that status from where it is."),
    "order_log_denied": __("You can see the log of your own orders only; №{number} isn't yours."),
    "switch_word": __("Say on or off, not {value}."),
    "group_taken": __("This group is already linked to another account."),
    "no_group": __("No manager group is linked."),
    # order fields (API, CSV, /neworder)
    "field_required": __("{field}: required."),
    "field_type": __("{field}: wrong type, expected {expected}."),
    "field_too_long": __("{field}: too long, at most {limit} characters."),
    "field_characters": __(
        "{field}: contains characters that can't be stored (a NUL byte or a broken character). "
        "Remove them and send it again."
    ),
    "field_number": __("{field}: an order number is one word without spaces, e.g. 1042."),
    "field_phone": __("{field}: not a phone number, e.g. +7 900 123-45-67."),
    "field_email": __("{field}: not an email address."),
    "field_currency": __("{field}: a three-letter currency code, e.g. RUB."),
    "field_amount": __("{field}: not an amount; write rubles like 1500, 1 500,50 or 1500.50."),
    "field_amount_ambiguous": __(
        "{field}: {value} can be read as {thousands} or {decimal}; write {thousands_text} or "
        "{decimal_text}."
    ),
    "field_amount_too_large": __("{field}: too large, at most {maximum}."),
    "field_range": __("{field}: must be from {low} to {high}."),
    "field_too_many": __("{field}: at most {limit} entries."),
    "token_unknown": __("Unknown or revoked API token."),
    "rate_limited": __(
        "Too many requests with this API token: at most {limit} a minute. Retry in {seconds} s."
    ),
    "too_many_failures": __(
        "Too many requests without a valid API token from this address. Retry in {seconds} s."
    ),
    "field_external_id_mismatch": __("{field}: differs from the external_id in the address."),
    "field_status": __('{field}: only "cancelled" can be sent; ShopDesk sets the other statuses.'),
    "csv_too_big": __("The file is too big: at most {limit} KiB. Split it into parts."),
    "csv_encoding": __("Can't read the file: save it as UTF-8 or Windows-1251 CSV."),
    "csv_empty": __("The file is empty."),
    "csv_header": __(
        "The first row must name the columns, separated by ; or , — at least: {columns}."
    ),
    "csv_columns": __("The file lacks required columns: {missing}."),
    "csv_too_many_rows": __("Too many rows: at most {limit} per file. Split it into parts."),
    "csv_broken": __("The file is not valid CSV near row {row}: {reason}."),
    "csv_conflict": __("Orders changed while importing; nothing was saved. Send the file again."),
    "no_api_token": __("The account has no API token. Create one with /apitoken."),
    # shop connectors
    "hook_signature": __("Wrong or missing signature or token."),
    "hook_json": __("The body is not a JSON object."),
    "hook_encoding": __("The body is not UTF-8 text."),
    "hook_content_type": __("Wrong content type: expected {expected}."),
    "hook_payload": __("The delivery lacks {field}."),
    "hook_store": __("{field}: the delivery is for another store than this connector's."),
    "connector_platform": __("Unknown platform. Choose one of: {platforms}."),
    "connector_needs": __("Send the {what} too (see /connect)."),
    "connector_value": __("The {what} you sent can't be right: one word, no spaces."),
    "connector_key_missing": __(
        "This platform's keys are stored encrypted, and the operator hasn't set "
        "CONNECTOR_SECRET_KEY yet. Tilda and InSales work without it."
    ),
    "connector_limit": __("An account can have at most {limit} connectors."),
    "connector_not_found": __("No such connector: #{id}. See /connectors."),
    "connector_paused": __("This connector is paused."),
    "connector_key_unreadable": __(
        "The connector's key can't be read (CONNECTOR_SECRET_KEY changed); rotate it."
    ),
    "status_hook_url": __("Give the full address, e.g. https://shop.example/shopdesk."),
    # reports and history
    "period_format": __(
        "Can't read the period {value}. Write today, 7d, month, last_month or days like "
        "01.11.2026-15.11.2026."
    ),
    "period_date": __("There is no date {value}. Write days as dd.mm.yyyy, e.g. 01.11.2026."),
    "period_order": __("The period starts after it ends: {first}–{last}. Swap the dates."),
    "period_too_long": __("A period can span at most {limit} days."),
    "report_own_only": __("Your role shows your own sales figures only."),
    "history_action": __("Unknown action type {action}. Choose one of: {groups}."),
    # tasks
    "task_gone": __("This task no longer exists. Open /tasks again."),
    "task_text_empty": __(
        "Write what needs doing, e.g. /task 1042 Call the customer tomorrow 15:00."
    ),
    "task_text_too_long": __("The task is too long: {length} characters, at most {limit}."),
    "task_text_characters": __(
        "The task contains characters that can't be stored (a NUL byte or a broken character). "
        "Remove them and send it again."
    ),
    "due_format": __(
        "Can't read the due time “{value}”. Write it like this: tomorrow, tomorrow 15:00, "
        "on friday, in 2 hours, 25.12, 25.12.2026 18:00, 18.00, in the evening or +3d."
    ),
    "due_past": __(
        "That time has already passed: {when}. Choose a later one, e.g. +2h or tomorrow 15:00."
    ),
    "due_too_far": __("That is too far ahead: at most {years} years from now."),
    "task_assign_admins": __("Only an admin can give a task to someone else."),
    "cancel_reason_required": __("Say why the order is cancelled: pick a reason or write one."),
    "cancel_reason_too_long": __("The reason is too long: at most {limit} characters."),
    "timezone_city": __(
        "Can't find a time zone for “{value}”. Write a big city nearby (Novosibirsk, "
        "Yekaterinburg) or the zone itself, e.g. Asia/Novosibirsk."
    ),
    "quiet_window": __("Write quiet hours like 22-8 (from 22:00 to 08:00), or off."),
    "day_hours": __("Write the morning and evening hours like 9 19 (morning before evening)."),
    "hour_format": __("“{value}” is not an hour: write a number from 0 to 23."),
    "country_code": __("“{value}” is not a country code: write two letters, e.g. RU, KZ, BY."),
    "role_assign_needs_view": __(
        "A role that may reassign colleagues' orders must see them: add orders.view_team "
        "(or orders.view_all) too."
    ),
    "role_builtin": __("{role} is a built-in role: it can't be changed or deleted."),
    "role_in_use": __("Members holding the role {role}: {count}. Give them another role first."),
    "handover_same": __("{name} can't hand work over to themselves: name another member."),
    "task_colleague_order": __(
        "Order №{number} is {holder}'s: only they or an admin can add tasks to it."
    ),
    "cannot_do_tasks": __("{name}'s role can't work on tasks."),
    "already_task_assignee": __("{name} already has this task."),
    "task_not_yours": __(
        "This task isn't yours: only its assignee, its author or an admin closes or postpones it."
    ),
    "task_reopen_denied": __("Only the task's author or an admin can reopen it."),
    "task_already_done": __("The task is already done."),
    "task_already_open": __("The task is already open."),
    "task_changed": __("The task was changed meanwhile. Open it again and retry."),
    "task_tab_admins": __("Only admins see everyone's tasks."),
    "field_datetime": __(
        "{field}: expected a date and time with a zone, e.g. 2026-11-22T12:00+03:00."
    ),
    "owner_always_alerted": __("The owner always gets the account alerts."),
    # invoices and bank statements
    "inn_format": __("An INN is 10 digits (a company) or 12 (a sole trader), not {value}."),
    "inn_checksum": __(
        "INN {value} has wrong check digits: it is mistyped. Check it against your registration "
        "documents."
    ),
    "kpp_format": __(
        "A KPP is 9 characters (digits; the 5th and 6th may be letters), not {value}."
    ),
    "kpp_required": __(
        "A company (10-digit INN) needs its KPP: /requisites INN; name; KPP; address."
    ),
    "requisites_name": __("Give the payer's name after the INN: /requisites INN; name; …"),
    "requisites_name_long": __("The name is too long: at most {limit} characters."),
    "requisites_address_long": __("The address is too long: at most {limit} characters."),
    "invoice_not_found": __("No such invoice. See /invoices."),
    "invoice_not_cancellable": __(
        "Invoice {number} is {status}: only an invoice awaiting payment can be cancelled."
    ),
    "invoice_cancelled": __(
        "Invoice {number} is cancelled: assign the payment to another invoice or to the account."
    ),
    "reason_required": __("Give a reason: every decision about money is recorded."),
    "assign_target": __("Name either an invoice or an account to assign the payment to."),
    "payment_not_found": __("No bank payment #{payment}."),
    "payment_resolved": __("Bank payment #{payment} is already {status}."),
    "statement_too_big": __(
        "The statement is too big: at most {limit} MB. Export a shorter period."
    ),
    "statement_format": __(
        "This is not a bank statement in the 1C exchange format: the file must begin with "
        "1CClientBankExchange."
    ),
    "statement_encoding": __(
        "The statement's text is not in the encoding it declares (Кодировка=Windows means "
        "Windows-1251): export it from the bank again and send it without re-saving it."
    ),
}

# Parameters given in kopecks; dates are local days.
MONEY_PARAMS = frozenset(
    {"amount", "balance", "price", "shortfall", "maximum", "thousands", "decimal", "head"}
)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "—"


def _param(key: str, value: Any) -> str:
    if key in MONEY_PARAMS and isinstance(value, int):
        return money(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return day(value)
    if isinstance(value, tuple | list):
        return ", ".join(q(each) for each in value)
    return q(value)


def error_text(error: DomainError) -> str:
    template = MESSAGES.get(error.code)
    if template is None:
        log.error("no message for domain error %r", error.code)
        return _("This can't be done.")
    params = _Blank({k: _param(k, v) for k, v in error.params.items()})
    return str(template).format_map(params)


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramAPIError:
        log.warning("could not deliver an error reply for update %s", update.update_id)


async def on_domain_error(event: ErrorEvent, i18n: I18n, **data: Any) -> None:
    with i18n.context(), i18n.use_locale(data.get("locale", i18n.default_locale)):
        await _reply(event, error_text(event.exception))


async def on_unexpected_error(event: ErrorEvent, i18n: I18n, **data: Any) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    with i18n.context(), i18n.use_locale(data.get("locale", i18n.default_locale)):
        await _reply(event, _("Sorry, something went wrong. Please try again."))


def build_router() -> Router:
    router = FeatureRouter(name="errors")
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(on_unexpected_error)
    return router

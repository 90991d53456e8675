"""Every command, who may use it, and its description — for /help and the command menu."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot.i18n import LOCALES
from core.members.actor import Actor
from core.members.permissions import Perm


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: LazyProxy
    perms: tuple[Perm, ...] = ()  # any one of them suffices; empty: every member
    owner_only: bool = False

    def allowed(self, actor: Actor) -> bool:
        if self.owner_only:
            return actor.is_owner
        return not self.perms or any(actor.can(p) for p in self.perms)


ORDER_VIEW = (Perm.ORDERS_VIEW_OWN, Perm.ORDERS_VIEW_TEAM, Perm.ORDERS_VIEW_ALL)
TARIFF_VIEW = (Perm.BILLING_MANAGE, Perm.USERS_MANAGE)

# In menu order: the daily work first, account administration after.
COMMANDS: tuple[Command, ...] = (
    Command("orders", __("orders: mine, unassigned, all"), ORDER_VIEW),
    Command("order", __("open an order: /order 1042"), ORDER_VIEW),
    Command("find", __("find orders: /find number, phone or name"), ORDER_VIEW),
    Command("claim", __("take an order: /claim 1042"), (Perm.ORDERS_CLAIM,)),
    Command(
        "handover",
        __("hand a member's open orders and tasks over: /handover @from @to"),
        (Perm.ORDERS_ASSIGN,),
    ),
    Command(
        "merge_customers",
        __("merge two records of one customer: /merge_customers 12 15"),
        (Perm.ORDERS_ASSIGN,),
    ),
    Command("neworder", __("enter an order by hand"), (Perm.ORDERS_CREATE,)),
    Command("notify", __("new order announcements: /notify orders on|off"), (Perm.ORDERS_CLAIM,)),
    Command("shift", __("your shift: /shift on|off"), (Perm.ORDERS_CLAIM,)),
    Command("tasks", __("tasks: mine, overdue, all"), (Perm.TASKS_MANAGE,)),
    Command(
        "task", __("add a task: /task 1042 Call the customer tomorrow 15:00"), (Perm.TASKS_MANAGE,)
    ),
    Command(
        "report",
        __("sales report: /report [month|7d|01.11.2026-15.11.2026] [@name]"),
        (Perm.REPORTS_OWN, Perm.REPORTS_TEAM),
    ),
    Command("services", __("services journal: status, renewals, order"), (Perm.SERVICES_VIEW,)),
    Command("balance", __("balance, renewals ahead, last operations"), (Perm.SERVICES_VIEW,)),
    Command("topup", __("record a payment: /topup 5000 [reference]"), (Perm.BILLING_MANAGE,)),
    Command("digest", __("the morning digest: /digest on|off")),
    Command("alerts", __("account alerts: /alerts on|off"), (Perm.USERS_MANAGE,)),
    Command("quiet", __("quiet hours for alerts: /quiet on|off"), owner_only=True),
    Command(
        "settings",
        __("time zone, working hours, claim time, distribution of orders, morning digest"),
        owner_only=True,
    ),
    Command("tariff", __("tariff, seats and paid-through date"), TARIFF_VIEW),
    Command("invoice", __("invoice preview: /invoice [1|3|6|12]"), TARIFF_VIEW),
    Command("prepay", __("record a payment: /prepay months [reference]"), (Perm.BILLING_MANAGE,)),
    Command("invoices", __("invoices to pay by bank transfer: list, new, PDF"), TARIFF_VIEW),
    Command(
        "requisites",
        __("your company's details for invoices: /requisites INN; name; …"),
        (Perm.BILLING_MANAGE,),
    ),
    Command("plan", __("change the tariff: /plan business"), owner_only=True),
    Command("users", __("members, their roles and status"), (Perm.USERS_MANAGE,)),
    Command("invite", __("invite link: /invite [role]"), (Perm.USERS_MANAGE,)),
    Command("block", __("block a member: /block @name [reason]"), (Perm.USERS_MANAGE,)),
    Command("unblock", __("unblock a member: /unblock @name"), (Perm.USERS_MANAGE,)),
    Command("role", __("change a role: /role @name manager"), (Perm.USERS_MANAGE,)),
    Command("remove", __("remove a member: /remove @name"), (Perm.USERS_MANAGE,)),
    Command("roles", __("roles and their permissions"), (Perm.USERS_MANAGE,)),
    Command("newrole", __("custom role: /newrole code base +perm -perm"), (Perm.USERS_MANAGE,)),
    Command(
        "editrole", __("change a custom role: /editrole name +perm -perm"), (Perm.USERS_MANAGE,)
    ),
    Command(
        "delrole", __("delete a custom role nobody holds: /delrole name"), (Perm.USERS_MANAGE,)
    ),
    Command(
        "history",
        __("request history: /history [@name] [orders|members|…] [period]"),
        (Perm.AUDIT_VIEW, Perm.USERS_MANAGE),
    ),
    Command("apitoken", __("the store's API token: create or rotate"), (Perm.USERS_MANAGE,)),
    Command(
        "connect",
        __("connect a shop: Shopify, WooCommerce, Ecwid, Tilda, InSales"),
        (Perm.USERS_MANAGE,),
    ),
    Command("connectors", __("the shop connectors and the status webhook"), (Perm.USERS_MANAGE,)),
    Command(
        "linkgroup",
        __("send it in the managers' group to announce orders there"),
        (Perm.USERS_MANAGE,),
    ),
    Command("transfer", __("hand the account over: /transfer @name"), owner_only=True),
    Command("lang", __("language: русский / English")),
    Command("help", __("what I can do for you")),
)


def commands_for(actor: Actor) -> list[Command]:
    return [c for c in COMMANDS if c.allowed(actor)]


async def set_bot_commands(bot: Bot, i18n: I18n) -> None:
    """The menu in both languages; the default (no language) is the default locale."""
    for language in (*LOCALES, None):
        with i18n.context(), i18n.use_locale(language or i18n.default_locale):
            menu = [BotCommand(command=c.name, description=str(c.description)) for c in COMMANDS]
        await bot.set_my_commands(menu, language_code=language)

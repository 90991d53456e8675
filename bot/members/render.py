"""Texts and keyboards of /users, member cards, invites and the block notice."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.audit.callbacks import HistoryPage
from bot.format import day, q, when
from bot.members.callbacks import HandoverCb, MemberCb, MemberOp, UsersPage
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import Perm, parse_perms
from core.members.service import MemberAction, MemberCard, MembersPage, Removal
from core.orders.handover import Receiver

ROLE_NAMES = {"owner": __("owner"), "admin": __("admin"), "manager": __("manager")}
STATUS_NAMES = {
    MemberStatus.ACTIVE: __("active"),
    MemberStatus.BLOCKED: __("blocked"),
    MemberStatus.REMOVED: __("removed"),
}
STATUS_ICONS = {MemberStatus.ACTIVE: "🟢", MemberStatus.BLOCKED: "⛔", MemberStatus.REMOVED: "▫️"}


def role_name(code: str) -> str:
    name = ROLE_NAMES.get(code)
    return str(name) if name is not None else code


def status_name(status: str) -> str:
    return str(STATUS_NAMES.get(status, status))


def blocked_notice() -> str:
    return _("Your access to this account has been blocked by its admin. Ask them to unblock you.")


def stranger_notice() -> str:
    return _(
        "This is ShopDesk, the back office of online shops. Only members invited by their "
        "shop's admin can use it: ask your admin for an invite link."
    )


def welcome(member: Member, account_name: str) -> str:
    return _(
        "Welcome to {account}, {name}! Your role: {role}. See /help for what you can do."
    ).format(account=q(account_name), name=q(member.full_name), role=role_name(member.role.code))


def users_list(page: MembersPage) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for member in page.members:
        label = "{icon} {name} · {role}{shift}".format(
            icon=STATUS_ICONS.get(member.status, ""),
            name=member.display_name,
            role=role_name(member.role.code),
            shift=" · 💼" if member.on_shift and member.status == "active" else "",
        )
        builder.button(
            text=label[:64], callback_data=MemberCb(op=MemberOp.CARD, member_id=member.id)
        )
    builder.adjust(1)
    nav = []
    if page.page > 0:
        nav.append(
            InlineKeyboardButton(text="◀", callback_data=UsersPage(page=page.page - 1).pack())
        )
    if page.has_next:
        nav.append(
            InlineKeyboardButton(text="▶", callback_data=UsersPage(page=page.page + 1).pack())
        )
    if nav:
        builder.row(*nav)
    text = _("<b>Members</b> (page {page}). Tap a member to open their card.").format(
        page=page.page + 1
    )
    if page.on_shift:
        names = ", ".join(q(name) for name in page.on_shift)
        text += "\n" + _("💼 On shift now: {names}").format(names=names)
    else:
        text += "\n" + _("Nobody is on shift now.")
    return text, builder.as_markup()


_ACTION_LABELS = {
    MemberAction.BLOCK: (__("⛔ Block"), MemberOp.BLOCK),
    MemberAction.UNBLOCK: (__("✅ Unblock"), MemberOp.UNBLOCK),
    MemberAction.ROLE: (__("🎭 Role"), MemberOp.ROLES),
    MemberAction.REMOVE: (__("🗑 Remove"), MemberOp.REMOVE),
}


def member_card(
    card: MemberCard, timezone: str, may_hand_over: bool = False
) -> tuple[str, InlineKeyboardMarkup]:
    member = card.member
    lines = [
        f"<b>{q(member.full_name)}</b>",
        _("Username: {username}").format(
            username=q(f"@{member.username}") if member.username else "—"
        ),
        _("Telegram id: {id}").format(id=member.telegram_id),
        _("Role: {role}").format(role=role_name(member.role.code)),
        _("Status: {status}").format(status=status_name(member.status)),
        _("Joined: {date}").format(date=when(member.joined_at, timezone)),
    ]
    if member.status == MemberStatus.BLOCKED and member.blocked_reason:
        lines.append(_("Reason: {reason}").format(reason=q(member.blocked_reason)))
    builder = InlineKeyboardBuilder()
    for action in card.actions:
        label, op = _ACTION_LABELS[action]
        builder.button(text=str(label), callback_data=MemberCb(op=op, member_id=member.id))
    if may_hand_over and member.status != MemberStatus.ACTIVE:
        builder.button(
            text=_("📦 Hand work over…"),
            callback_data=MemberCb(op=MemberOp.HANDOVER, member_id=member.id),
        )
    builder.button(text=_("📜 History"), callback_data=HistoryPage(page=0, member_id=member.id))
    builder.button(text=_("« Members"), callback_data=UsersPage(page=0))
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


def receiver_picker(
    giver_id: int, giver: str, receivers: list[Receiver]
) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for receiver in receivers:
        builder.button(
            text=receiver.name,
            callback_data=HandoverCb(giver=giver_id, receiver=receiver.member_id),
        )
    builder.button(text=_("« Back"), callback_data=MemberCb(op=MemberOp.CARD, member_id=giver_id))
    builder.adjust(1)
    text = _("Who gets {name}'s open orders and open tasks?").format(name=q(giver))
    return text, builder.as_markup()


def role_picker(member: Member, roles: list[Role]) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    for role in roles:
        mark = "• " if role.id == member.role_id else ""
        builder.button(
            text=mark + role_name(role.code),
            callback_data=MemberCb(op=MemberOp.SET_ROLE, member_id=member.id, role_id=role.id),
        )
    builder.button(text=_("« Back"), callback_data=MemberCb(op=MemberOp.CARD, member_id=member.id))
    builder.adjust(1)
    text = _("Choose a new role for {name}:").format(name=q(member.display_name))
    return text, builder.as_markup()


def _paid_until(removal: Removal) -> str | None:
    before, after = removal.paid_through_before, removal.paid_through_after
    if after is None or before == after:
        return None
    return _("Paid until: {before} → {after}.").format(
        before=day(before) if before else "—", after=day(after)
    )


def remove_confirm(removal: Removal) -> tuple[str, InlineKeyboardMarkup]:
    member = removal.member
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🗑 Yes, remove"), callback_data=MemberCb(op=MemberOp.REMOVE_YES, member_id=member.id)
    )
    builder.button(text=_("« Back"), callback_data=MemberCb(op=MemberOp.CARD, member_id=member.id))
    text = _(
        "Remove {name} from the account? Their history and orders stay; they lose access and "
        "free their seat."
    ).format(name=q(member.display_name))
    dated = _paid_until(removal)
    if dated:
        text += "\n" + _("The freed paid seat gives its prepaid days back.") + " " + dated
    return text, builder.as_markup()


def removed(removal: Removal) -> str:
    text = done("remove", removal.member)
    dated = _paid_until(removal)
    return text + "\n" + dated if dated else text


def transfer_confirm(member: Member) -> tuple[str, InlineKeyboardMarkup]:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("👑 Yes, make them the owner"),
        callback_data=MemberCb(op=MemberOp.TRANSFER_YES, member_id=member.id),
    )
    builder.button(
        text=_("✖ Cancel"), callback_data=MemberCb(op=MemberOp.CARD, member_id=member.id)
    )
    builder.adjust(1)
    text = _(
        "Make {name} the owner of the account? They get every right, billing included, and you "
        "become an admin. Only they can give ownership back."
    ).format(name=q(member.display_name))
    return text, builder.as_markup()


def done(action: str, member: Member) -> str:
    name = q(member.display_name)
    texts = {
        "block": _(
            "{name} is blocked. Their open orders and tasks stay assigned to them: hand them over "
            "with /handover {name} @colleague."
        ).format(name=name),
        "unblock": _("{name} is unblocked and has access again.").format(name=name),
        "role": _("{name} is now {role}.").format(name=name, role=role_name(member.role.code)),
        "remove": _("{name} has been removed from the account.").format(name=name),
        "transfer": _("{name} is now the owner; you are an admin.").format(name=name),
    }
    return texts[action]


def invite_created(link: str, role_code: str, expires: str) -> str:
    return _(
        "Invite link for a new {role} (single use, valid until {expires}):\n{link}\n\n"
        "Send it to the person you are inviting."
    ).format(role=role_name(role_code), expires=expires, link=link)


PERM_LABELS = {
    Perm.ORDERS_VIEW_OWN: __("see own orders in full"),
    Perm.ORDERS_VIEW_TEAM: __("see colleagues' orders in brief"),
    Perm.ORDERS_VIEW_ALL: __("see every order in full"),
    Perm.ORDERS_CLAIM: __("take unassigned orders"),
    Perm.ORDERS_ASSIGN: __("assign and reassign orders"),
    Perm.ORDERS_CREATE: __("enter and import orders"),
    Perm.TASKS_MANAGE: __("work on tasks"),
    Perm.SERVICES_VIEW: __("see services and balance"),
    Perm.SERVICES_MANAGE: __("manage services"),
    Perm.REPORTS_OWN: __("own sales report"),
    Perm.REPORTS_TEAM: __("everyone's sales reports"),
    Perm.AUDIT_VIEW: __("every order log and account history"),
    Perm.AUDIT_VIEW_OWN: __("own orders' logs"),
    Perm.USERS_MANAGE: __("manage members and roles"),
    Perm.BILLING_MANAGE: __("tariff and payments"),
}


def perm_labels(permissions: list[str]) -> str:
    """Permissions in words, in the member's language (the code after each, for /editrole)."""
    known = parse_perms(permissions)
    return "; ".join(f"{PERM_LABELS[p]} (<code>{p.value}</code>)" for p in Perm if p in known) or _(
        "nothing"
    )


def roles_list(roles: list[Role]) -> str:
    lines = [_("<b>Roles</b>")]
    for role in roles:
        lines.append(f"\n<b>{q(role_name(role.code))}</b>: " + perm_labels(role.permissions))
    lines.append(
        "\n"
        + _(
            "Custom roles: /newrole NAME BASE_ROLE +perm -perm, /editrole NAME +perm -perm, "
            "/delrole NAME."
        )
    )
    return "\n".join(lines)


def role_created(role: Role) -> str:
    return _("Role {role} created: {permissions}. Give it with /role @name {role}.").format(
        role=q(role.code), permissions=perm_labels(role.permissions)
    )


def role_changed(role: Role) -> str:
    return _("Role {role} now may: {permissions}.").format(
        role=q(role.code), permissions=perm_labels(role.permissions)
    )


def role_deleted(code: str) -> str:
    return _("Role {role} deleted.").format(role=q(code))


def usage(command: str) -> str:
    examples = {
        "block": _("Usage: /block @username [reason] — or pick a member in /users."),
        "unblock": _("Usage: /unblock @username — or pick a member in /users."),
        "role": _("Usage: /role @username manager — roles: see /roles."),
        "remove": _("Usage: /remove @username — or pick a member in /users."),
        "transfer": _("Usage: /transfer @username — the new owner must be an active member."),
        "editrole": _("Usage: /editrole NAME +permission -permission — permissions: see /roles."),
        "delrole": _("Usage: /delrole NAME — a custom role nobody holds."),
        "newrole": _(
            "Usage: /newrole CODE BASE_ROLE [+permission …] [-permission …], e.g. "
            "/newrole senior manager +orders.assign. Permissions: see /roles."
        ),
    }
    return examples[command]

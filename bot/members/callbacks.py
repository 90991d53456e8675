from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MemberOp(StrEnum):
    CARD = "card"
    BLOCK = "block"
    UNBLOCK = "unblock"
    ROLES = "roles"  # open the role picker
    SET_ROLE = "setrole"
    REMOVE = "remove"  # ask to confirm
    REMOVE_YES = "rmyes"
    TRANSFER_YES = "tfyes"  # /transfer, confirmed
    HANDOVER = "ho"  # pick who receives the member's open orders and tasks


class UsersPage(CallbackData, prefix="users"):
    page: int


class MemberCb(CallbackData, prefix="mb"):
    op: MemberOp
    member_id: int
    role_id: int = 0


class InviteSeatCb(CallbackData, prefix="invseat"):
    """'Create the invite' after seeing what the paid seat does to the prepaid period."""

    role: str
    cost: int  # the monthly cost (kopecks) the admin agreed to


class InviteCancel(CallbackData, prefix="invno"):
    pass


class HandoverCb(CallbackData, prefix="hoto"):
    """Hand the member's open orders and tasks over to `receiver`."""

    giver: int
    receiver: int

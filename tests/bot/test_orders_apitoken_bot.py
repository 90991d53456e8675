"""/apitoken: shown once, stored hashed, rotation revokes the previous token."""

from __future__ import annotations

import re

import pytest

from core.errors import DomainError
from core.intake.tokens import token_account

TOKEN = re.compile(r"<code>(sd_[\w-]+)</code>")


async def account_of(uows, token: str) -> int:
    async with uows() as uow:
        return (await token_account(uow, token)).id


async def test_admin_creates_and_rotates_the_token(client, shop, uows):
    admin = client(2000, username="admin")
    first = await admin.send("/apitoken")
    token = TOKEN.search(first.text).group(1)
    assert "показан только сейчас" in first.text and "Authorization: Bearer" in first.text
    assert "больше не работает" not in first.text
    assert await account_of(uows, token) == shop["owner"].account_id
    second = await admin.send("/apitoken")
    rotated = TOKEN.search(second.text).group(1)
    assert rotated != token and "Прежний токен больше не работает." in second.text
    with pytest.raises(DomainError):
        await account_of(uows, token)
    assert await account_of(uows, rotated) == shop["owner"].account_id


async def test_revoke_and_bad_arguments(client, shop, uows):
    admin = client(2000, username="admin")
    token = TOKEN.search((await admin.send("/apitoken")).text).group(1)
    assert "отозван" in (await admin.send("/apitoken revoke")).text
    with pytest.raises(DomainError):
        await account_of(uows, token)
    assert "нет API-токена" in (await admin.send("/apitoken revoke")).text
    assert (await admin.send("/apitoken please")).text.startswith("Формат: /apitoken")


async def test_manager_cannot_see_or_make_tokens(client, shop):
    reply = await client(3001, username="petya").send("/apitoken")
    assert reply.text == "У вас нет прав на это действие."
    assert "sd_" not in reply.text
    assert "/apitoken" not in (await client(3001, username="petya").send("/help")).text

"""/settings through the bot: the owner reads and changes them, an admin may not."""

from __future__ import annotations


async def test_owner_sets_the_time_zone_by_city(client, shop):
    owner = client(1000)
    shown = await owner.send("/settings")
    assert (
        "Часовой пояс: Europe/Moscow" in shown.text
        and "Тихие часы для оповещений: 22:00–08:00" in shown.text
    )
    done = await owner.send("/settings tz Новосибирск")
    assert done.text.startswith("✅ Сохранено.") and "Часовой пояс: Asia/Novosibirsk" in done.text
    bad = await owner.send("/settings quiet всегда")
    assert bad.text == "Напишите тихие часы так: 22-8 (с 22:00 до 08:00) или off."
    refused = await client(2000).send("/settings")
    assert "владел" in refused.text.lower()

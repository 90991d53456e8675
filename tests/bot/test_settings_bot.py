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


async def test_each_setting_has_a_button_that_asks_for_the_value(client, shop, uows):
    owner = client(1000)
    shown = await owner.send("/settings")
    assert shown.buttons == [
        "✏️ Часовой пояс",
        "✏️ Тихие часы для оповещений",
        "✏️ «Утром» / «вечером» в сроках задач",
        "✏️ Страна для телефонов без +кода",
        "✏️ Рабочие часы",
        "✏️ Время на взятие заказа",
        "✏️ Новые заказы",
        "✏️ Не больше открытых заказов на менеджера",
        "✏️ Смены заканчиваются в конце рабочего дня",
        "✏️ Утренняя сводка в",
    ]
    asked = await owner.click("Тихие часы")
    assert "<b>Тихие часы для оповещений</b> сейчас: 22:00–08:00" in asked.text
    assert "23-7" in asked.text and "/cancel" in asked.text
    wrong = await owner.send("всегда")  # refused; the question stays open
    assert wrong.text == "Напишите тихие часы так: 22-8 (с 22:00 до 08:00) или off."
    done = await owner.send("23-7")
    assert done.text.startswith("✅ Сохранено.")
    assert "Тихие часы для оповещений: 23:00–07:00" in done.text
    after = await owner.send("23-6")  # no longer asking: an ordinary message
    assert "Сохранено" not in (after.text or "")
    async with uows() as uow:
        from core.accounts.models import Account

        account = await uow.session.get(Account, shop["owner"].account_id)
        assert (account.quiet_start, account.quiet_end) == (23, 7)
    await owner.click("Страна")
    kept = await owner.send("/cancel")
    assert kept.text == "Ничего не изменилось."
    assert "Страна для телефонов без +кода: RU" in (await owner.send("/settings")).text


async def test_the_buttons_are_the_settings_table(client, shop, monkeypatch):
    """A setting added to the one table gets its line, its button and its dialog."""
    from bot.settings import registry

    async def set_motto(uow, actor, text):
        from core.accounts import settings as service

        return await service.set_country(uow, actor, text)

    extra = registry.Entry(
        key="motto", label="Motto", shown=lambda s: s.country, prompt="Type it", save=set_motto
    )
    monkeypatch.setattr(registry, "ENTRIES", (*registry.ENTRIES, extra))
    owner = client(1000)
    shown = await owner.send("/settings")
    assert "Motto: RU" in shown.text and shown.buttons[-1] == "✏️ Motto"
    assert "Type it" in (await owner.click("Motto")).text
    assert "Motto: KZ" in (await owner.send("KZ")).text
    assert "Motto: BY" in (await owner.send("/settings motto BY")).text


async def test_settings_in_english(client, shop):
    owner = client(1000)
    await owner.send("/lang en")
    shown = await owner.send("/settings")
    assert "Time zone: Europe/Moscow" in shown.text and "✏️ Time zone" in shown.buttons
    asked = await owner.click("Time zone")
    assert "Write a city (Novosibirsk, Yekaterinburg)" in asked.text
    assert "Time zone: Asia/Novosibirsk" in (await owner.send("Novosibirsk")).text


async def test_an_admin_gets_no_settings_buttons(client, shop):
    admin = client(2000)
    refused = await admin.press("cfg:tz")
    assert "владел" in (refused.alert or refused.text).lower()


async def test_settings_changes_read_in_words_in_the_history(client, shop):
    owner = client(1000)
    await owner.send("/settings quiet 23-7")
    await owner.send("/settings tz Новосибирск")
    text = (await owner.send("/history settings")).text
    assert "тихие часы с: 22 → 23; тихие часы до: 8 → 7" in text
    assert "часовой пояс: Europe/Moscow → Asia/Novosibirsk" in text
    await owner.send("/lang en")
    english = (await owner.send("/history settings")).text
    assert "quiet hours from: 22 → 23; quiet hours until: 8 → 7" in english

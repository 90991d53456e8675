"""/report as members see it: the table, the chart, period and member buttons, CSV files."""

from __future__ import annotations

import csv
import io
import re
import struct
import threading

import pytest
from aiogram.enums import ChatAction
from aiogram.methods import SendChatAction, SendDocument, SendMessage, SendPhoto
from PIL import Image, ImageColor

from bot.reports import chart
from bot.reports.render import chart_data
from bot.reports.sent_charts import SentCharts, fingerprint
from core.orders.models import OrderStatus
from core.orders.service import assign_order, change_status, claim_order
from core.reports.periods import PeriodKind, period_of
from core.reports.service import sales_report
from tests.conftest import T0
from tests.support.orders import add_order

OWNER, ADMIN, PETYA, VASYA = 1000, 2000, 3001, 3002
USERNAMES = {OWNER: "owner", ADMIN: "admin", PETYA: "petya", VASYA: "vasya"}
NB = "\u00a0"


@pytest.fixture
def client(client):
    """Members keep their usernames (the bot refreshes them from every update)."""

    def make(user_id: int, **kwargs):
        kwargs.setdefault("username", USERNAMES.get(user_id))
        return client(user_id, **kwargs)

    return make


async def run(uows, service, *args):
    async with uows() as uow:
        return await service(uow, *args)


async def working_day(uows, shop) -> dict[str, int]:
    """Today: Petya completes A (3 000 ₽) and B (1 500 ₽); Vasya cancels C (5 000 ₽); D
    (2 000 ₽) goes from Petya to Vasya, who completes it; Vasya keeps E open; F is unassigned."""
    account = shop["owner"].account_id
    petya, vasya = shop["m1"], shop["m2"]
    totals = {"A": 300_000, "B": 150_000, "C": 500_000, "D": 200_000, "E": 100_000, "F": 70_000}
    ids = {n: await add_order(uows, account, n, total=t) for n, t in totals.items()}
    for number, who in (("A", petya), ("B", petya), ("D", petya), ("C", vasya), ("E", vasya)):
        await run(uows, claim_order, who, ids[number])
    await run(uows, change_status, petya, ids["A"], OrderStatus.COMPLETED)
    await run(uows, change_status, petya, ids["B"], OrderStatus.COMPLETED)
    await run(uows, change_status, vasya, ids["C"], OrderStatus.CANCELLED, "duplicate")
    await run(uows, assign_order, shop["admin"], ids["D"], vasya.member_id)
    await run(uows, change_status, vasya, ids["D"], OrderStatus.COMPLETED)
    return ids


def table(text: str) -> list[list[str]]:
    """The <pre> table's rows as cells (numbers keep their no-break-space grouping)."""
    body = re.search(r"<pre>(.*)</pre>", text, re.S).group(1)
    return [re.split(r" +", line.strip()) for line in body.splitlines() if "─" not in line]


def sent(reply, kind):
    return [r for r in reply.requests if isinstance(r, kind)]


def csv_rows(document: SendDocument, delimiter: str) -> list[list[str]]:
    data = document.document.data
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for spreadsheet programs"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---- the report ------------------------------------------------------------------------------


async def test_admin_report_table_chart_and_buttons(client, shop, uows):
    await working_day(uows, shop)
    reply = await client(ADMIN).send("/report today")
    assert "<b>Отчёт о продажах</b> · Сегодня · 22.11.2026" in reply.text
    rows = table(reply.text)
    assert rows[0] == ["Сотрудник", "Выполн.", "Выручка", "Средний", "%", "Не", "закрыто"]
    by_name = {row[0]: row[1:] for row in rows[1:]}
    # Hand-computed: Petya A + B = 4 500 ₽ (69,2 %); Vasya D = 2 000 ₽ (30,8 %), E open;
    # cancelled C counts nowhere; F is open without an assignee.
    assert by_name["@petya"] == ["2", f"4{NB}500", f"2{NB}250", "69,2", "0"]
    assert by_name["@vasya"] == ["1", f"2{NB}000", f"2{NB}000", "30,8", "1"]
    assert by_name["без"] == ["исполнителя", "0", "0", "0", "0,0", "1"]  # "без исполнителя"
    assert by_name["Итого"] == ["3", f"6{NB}500", f"2{NB}167", "100,0", "2"]
    assert reply.buttons == [
        "• Сегодня",
        "7 дней",
        "Этот месяц",
        "Прошлый месяц",
        "👤 Сотрудник: все",
        "📄 CSV",
        "📄 CSV заказов",
    ]
    # "Uploading photo" goes out before the chart, the chart before the table.
    kinds = [type(r) for r in reply.requests]
    assert kinds == [SendChatAction, SendPhoto, SendMessage]
    assert sent(reply, SendChatAction)[0].action == ChatAction.UPLOAD_PHOTO
    photo = sent(reply, SendPhoto)[0]
    assert png_size(photo.photo.data) == (600, int(chart.height_inches(2) * chart.DPI))
    assert photo.caption == "График продаж · Сегодня · 22.11.2026"


async def test_chart_has_one_bar_per_member_with_sales(app, shop, uows):
    await working_day(uows, shop)
    async with uows() as uow:
        report = await sales_report(uow, shop["admin"], period_of(PeriodKind.TODAY, T0.date()))
    with app.i18n.context(), app.i18n.use_locale("ru"):
        data = chart_data(report)
    # One scale (revenue); the names and the completed orders label the bars, the period is in
    # the caption, not in a title that would not fit.
    assert data.title == "Выручка по сотрудникам, ₽"
    assert data.labels == ("User 3001 · 2 заказа", "User 3002 · 1 заказ")
    assert data.values == ("4\u00a0500\u00a0₽", "2\u00a0000\u00a0₽")
    picture = chart.layout(data)
    assert [bar.revenue for bar in picture.bars] == [4500.0, 2000.0]
    # One scale: the bars' lengths are in the revenues' proportion, from one left edge.
    (a_left, _, a_right, a_bottom), (b_left, b_top, b_right, _) = (b.box for b in picture.bars)
    assert a_left == b_left and a_bottom < b_top  # the first member's bar is above
    assert abs((a_right - a_left) / (b_right - b_left) - 4500 / 2000) < 1e-9
    written = [t.text for t in picture.texts]
    assert written[0] == data.title
    assert all(label in written for label in data.labels + data.values)
    with app.i18n.context(), app.i18n.use_locale("en"):
        english = chart_data(report)
    assert english.labels[0] == "User 3001 · 2 orders"
    assert english.values == ("4,500\u00a0₽", "2,000\u00a0₽")
    png = chart.png(picture)
    assert png_size(png) == (600, int(chart.height_inches(2) * chart.DPI))
    assert (picture.width, picture.height) == png_size(png)
    assert all(0 <= b.box[0] < b.box[2] <= picture.width for b in picture.bars)
    drawn = Image.open(io.BytesIO(png))
    for bar in picture.bars:
        left, top, right, bottom = bar.box
        middle = (int((left + right) / 2), int((top + bottom) / 2))
        assert drawn.getpixel(middle) == ImageColor.getrgb(chart.BAR_COLOR)
    assert drawn.getpixel((picture.width - 2, picture.height - 2)) == (255, 255, 255)


async def test_chart_renders_off_the_event_loop(client, shop, uows, monkeypatch):
    await working_day(uows, shop)
    threads = []
    real = chart.render

    def spy(data):
        threads.append(threading.get_ident())
        return real(data)

    monkeypatch.setattr(chart, "render", spy)
    await client(ADMIN).send("/report today")
    assert threads and threads[0] != threading.get_ident()


# ---- charts Telegram already has ---------------------------------------------------------------


@pytest.fixture
def renders(monkeypatch) -> list:
    """The charts drawn (the ChartData of each chart.render call)."""
    drawn = []
    real = chart.render

    def spy(data):
        drawn.append(data)
        return real(data)

    monkeypatch.setattr(chart, "render", spy)
    return drawn


def kinds(reply) -> list[type]:
    return [type(r) for r in reply.requests]


async def test_an_identical_chart_is_sent_again_by_file_id_without_drawing(
    app, client, shop, uows, renders
):
    await working_day(uows, shop)
    first = await client(ADMIN).send("/report today")
    [upload] = sent(first, SendPhoto)
    assert len(renders) == 1
    again = await client(ADMIN).send("/report today")
    # No "uploading photo", no drawing: Telegram's file_id of the first upload, same caption.
    assert kinds(again) == [SendPhoto, SendMessage]
    [resent] = sent(again, SendPhoto)
    assert isinstance(resent.photo, str)
    assert app.bot.session.files[resent.photo] == upload.photo.data
    assert resent.caption == upload.caption == "График продаж · Сегодня · 22.11.2026"
    assert again.text == first.text
    # File ids belong to the bot, not to a chat: the owner's identical chart is not drawn either.
    owner = await client(OWNER).send("/report today")
    assert [r.photo for r in sent(owner, SendPhoto)] == [resent.photo]
    assert sent(owner, SendPhoto)[0].chat_id == OWNER
    assert len(renders) == 1


async def test_changed_figures_draw_the_chart_again(app, client, shop, uows, renders):
    ids = await working_day(uows, shop)
    await client(ADMIN).send("/report today")
    await run(uows, change_status, shop["m2"], ids["E"], OrderStatus.COMPLETED)
    changed = await client(ADMIN).send("/report today")
    assert kinds(changed) == [SendChatAction, SendPhoto, SendMessage]
    assert not isinstance(sent(changed, SendPhoto)[0].photo, str)
    assert [data.orders for data in renders] == [(2, 1), (2, 2)]  # Vasya's E now completed
    again = await client(ADMIN).send("/report today")
    assert kinds(again) == [SendPhoto, SendMessage] and len(renders) == 2
    assert app.bot.session.files[sent(again, SendPhoto)[0].photo].startswith(b"\x89PNG")


async def test_a_file_id_telegram_refuses_is_drawn_and_uploaded_again(
    app, client, shop, uows, renders
):
    await working_day(uows, shop)
    await client(ADMIN).send("/report today")
    app.bot.session.files.clear()  # Telegram no longer has the photo
    reply = await client(ADMIN).send("/report today")
    # The remembered id is refused; the chart is drawn, uploaded and its new id remembered.
    assert kinds(reply) == [SendPhoto, SendChatAction, SendPhoto, SendMessage]
    refused, upload = sent(reply, SendPhoto)
    assert isinstance(refused.photo, str) and refused.photo not in app.bot.session.files
    assert png_size(upload.photo.data)[0] == 600
    assert len(renders) == 2
    assert "Отчёт о продажах" in reply.text
    again = await client(ADMIN).send("/report today")
    [resent] = sent(again, SendPhoto)
    assert app.bot.session.files[resent.photo] == upload.photo.data
    assert len(renders) == 2


async def test_the_chart_of_another_locale_is_another_chart(app, shop, uows):
    await working_day(uows, shop)
    async with uows() as uow:
        report = await sales_report(uow, shop["admin"], period_of(PeriodKind.TODAY, T0.date()))
    prints = set()
    for locale in ("ru", "en", "ru"):
        with app.i18n.context(), app.i18n.use_locale(locale):
            prints.add(fingerprint(chart_data(report)))
    assert len(prints) == 2


def test_sent_charts_keep_the_most_recently_used():
    charts = SentCharts(size=2)
    charts.put(b"a", "A")
    charts.put(b"b", "B")
    assert charts.get(b"a") == "A"  # now the most recent
    charts.put(b"c", "C")
    assert (charts.get(b"a"), charts.get(b"b"), charts.get(b"c")) == ("A", None, "C")
    charts.forget(b"a")
    assert charts.get(b"a") is None and len(charts) == 1


async def test_empty_period_sends_no_chart(client, shop, uows):
    await working_day(uows, shop)
    reply = await client(OWNER).send("/report last_month")
    assert "Прошлый месяц · 01.10.2026–31.10.2026" in reply.text
    assert "нет выполненных или открытых заказов" in reply.text
    assert not sent(reply, SendPhoto) and not sent(reply, SendChatAction)


async def test_period_buttons_and_custom_period(client, shop, uows):
    await working_day(uows, shop)
    admin = client(ADMIN)
    await admin.send("/report last_month")
    today = await admin.click("Сегодня")
    assert "• Сегодня" in today.buttons and table(today.text)[-1][1] == "3"
    assert len(sent(today, SendPhoto)) == 1
    custom = await admin.send("/report 21.11.2026-22.11.2026 @vasya")
    assert "<b>Отчёт о продажах</b> · 21.11.2026–22.11.2026" in custom.text
    assert "Сотрудник: @vasya" in custom.text
    assert [row[0] for row in table(custom.text)[1:]] == ["@vasya", "Итого"]
    assert not any(b.startswith("• ") for b in custom.buttons)


async def test_member_filter_picker(client, shop, uows):
    await working_day(uows, shop)
    owner = client(OWNER)
    await owner.send("/report today")
    picker = await owner.click("Сотрудник: все")
    assert picker.requests and "• Все сотрудники" in str(picker.requests[0])
    reply = await owner.click("@petya")
    assert "Сотрудник: @petya" in reply.text
    assert [row[0] for row in table(reply.text)[1:]] == ["@petya", "Итого"]
    assert "👤 Сотрудник: @petya" in reply.buttons
    await owner.click("Сотрудник: @petya")
    back = await owner.click("« Назад")
    assert back.answered_callback and not sent(back, SendMessage)


@pytest.mark.parametrize("command", ["/report today", "/report today @petya"])
async def test_manager_sees_only_own_row(client, shop, uows, command):
    await working_day(uows, shop)
    petya = client(PETYA)
    reply = await petya.send(command)
    assert "Только ваши показатели" in reply.text
    assert [row[0] for row in table(reply.text)[1:]] == ["@petya", "Итого"]
    assert "@vasya" not in reply.text
    assert not any("Сотрудник" in b for b in reply.buttons)


async def test_manager_cannot_see_a_colleague(client, shop, uows):
    await working_day(uows, shop)
    petya = client(PETYA)
    refused = await petya.send("/report today @vasya")
    assert refused.text == "Ваша роль показывает только ваши собственные продажи."
    assert not sent(refused, SendPhoto)
    forged = await petya.press(f"rep:s:t:0:0:{shop['m2'].member_id}")
    assert forged.alert == "Ваша роль показывает только ваши собственные продажи."
    forged_csv = await petya.press(f"rep:o:t:0:0:{shop['m2'].member_id}")
    assert forged_csv.alert and not sent(forged_csv, SendDocument)
    picker = await petya.press("rep:u:t:0:0:0")
    assert picker.alert == "У вас нет прав на это действие."


async def test_team_permission_via_a_custom_role(client, shop, uows):
    await working_day(uows, shop)
    owner = client(OWNER)
    await owner.send("/newrole senior manager +reports.team")
    await owner.send("/role @petya senior")
    reply = await client(PETYA).send("/report today")
    assert {"@petya", "@vasya"} <= {row[0] for row in table(reply.text)}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/report 31.02.2026-01.03.2026", "Даты 31.02.2026 не существует"),
        ("/report 15.11.2026-01.11.2026", "Период начинается позже, чем заканчивается"),
        ("/report вчера", "Не удалось понять период вчера"),
        ("/report 01.01.2025-01.01.2027", "не больше 366 дней"),
        ("/report today @nobody", "Нет такого участника в вашем аккаунте: @nobody"),
    ],
)
async def test_bad_arguments_get_a_clear_error(client, shop, command, expected):
    reply = await client(ADMIN).send(command)
    assert expected in reply.text
    assert not sent(reply, SendPhoto)


async def test_forged_period_button(client, shop):
    reply = await client(ADMIN).press("rep:s:c:9000:1:0")
    assert "Период начинается позже" in reply.alert


# ---- CSV files -------------------------------------------------------------------------------


async def test_figures_csv_in_russian(client, shop, uows):
    await working_day(uows, shop)
    admin = client(ADMIN)
    await admin.send("/report today")
    reply = await admin.click("📄 CSV")
    [document] = sent(reply, SendDocument)
    assert document.document.filename == "sales_2026-11-22_2026-11-22.csv"
    rows = csv_rows(document, ";")
    assert rows[0] == [
        "Сотрудник",
        "Выполнено заказов",
        "Выручка, RUB",
        "Средний заказ, RUB",
        "Доля выручки, %",
        "Не закрыто",
    ]
    assert rows[1] == ["'@petya", "2", "4500,00", "2250,00", "69,2", "0"]
    assert rows[2] == ["'@vasya", "1", "2000,00", "2000,00", "30,8", "1"]
    assert rows[-2] == ["без исполнителя", "0", "0,00", "0,00", "0,0", "1"]
    assert rows[-1] == ["Итого", "3", "6500,00", "2166,67", "100,0", "2"]


async def test_figures_and_orders_csv_in_english(client, shop, uows):
    await working_day(uows, shop)
    admin = client(ADMIN)
    await admin.send("/lang")
    await admin.click("English")
    report = await admin.send("/report today")
    assert "<b>Sales report</b> · Today · 22.11.2026" in report.text
    [document] = sent(await admin.click("📄 CSV"), SendDocument)
    rows = csv_rows(document, ",")
    assert rows[0] == [
        "Member",
        "Orders completed",
        "Revenue, RUB",
        "Average order, RUB",
        "Share of revenue, %",
        "Still open",
    ]
    assert rows[1] == ["'@petya", "2", "4500.00", "2250.00", "69.2", "0"]
    [orders] = sent(await admin.click("Orders CSV"), SendDocument)
    rows = csv_rows(orders, ",")
    assert rows[0] == [
        "Order",
        "Status",
        "Assignee",
        "Total",
        "Currency",
        "Created",
        "Completed",
    ]
    assert sorted(row[0] for row in rows[1:]) == ["A", "B", "D", "E", "F"]
    d = next(row for row in rows if row[0] == "D")
    assert d == [
        "D",
        "completed",
        "'@vasya",
        "2000.00",
        "RUB",
        "22.11.2026 12:00",
        "22.11.2026 12:00",
    ]


async def test_orders_csv_in_russian_has_no_customer_data(client, shop, uows):
    await working_day(uows, shop)
    petya = client(PETYA)
    await petya.send("/report today")
    reply = await petya.click("CSV заказов")
    [document] = sent(reply, SendDocument)
    assert document.caption == "22.11.2026 · строк: 2"
    rows = csv_rows(document, ";")
    assert rows[0] == ["Заказ", "Статус", "Исполнитель", "Сумма", "Валюта", "Создан", "Выполнен"]
    assert sorted(row[0] for row in rows[1:]) == ["A", "B"]
    assert rows[1][1:5] == ["выполнен", "'@petya", "3000,00", "RUB"]
    assert "Иван" not in document.document.data.decode("utf-8-sig")


async def test_csv_button_keeps_the_days_it_was_shown_for(client, shop, uows, clock):
    from datetime import timedelta

    await working_day(uows, shop)
    admin = client(ADMIN)
    await admin.send("/report today")
    clock.advance(timedelta(days=1))
    [document] = sent(await admin.click("📄 CSV"), SendDocument)
    assert csv_rows(document, ";")[-1][:3] == ["Итого", "3", "6500,00"]


def test_many_members_share_one_others_bar(app):
    from core.reports.periods import custom_period
    from core.reports.service import Figures, ReportRow, SalesReport, Scope

    rows = [
        ReportRow(n, f"@m{n}", Figures(completed=1, revenue=(30 - n) * 100), 0) for n in range(23)
    ]
    day = T0.date()
    report = SalesReport(
        custom_period(day, day),
        "Europe/Moscow",
        "RUB",
        Scope.TEAM,
        None,
        None,
        rows,
        Figures(completed=23, revenue=sum(r.figures.revenue for r in rows)),
        0,
    )
    with app.i18n.context(), app.i18n.use_locale("ru"):
        data = chart_data(report)
    assert len(data.labels) == 20 and data.labels[-1] == "остальные · 4 заказа"
    assert data.revenue[-1] == 11 + 10 + 9 + 8  # members 19–22 together, in rubles
    assert data.orders[-1] == 4
    assert len(chart.layout(data).bars) == 20


async def test_the_report_counts_cancelled_orders_per_reason(client, shop, uows):
    ids = await working_day(uows, shop)  # C: a duplicate
    extra = [await add_order(uows, shop["owner"].account_id, n) for n in ("G", "H", "I")]
    for order_id, reason in zip(extra, ("out_of_stock", "out_of_stock", "Уехал"), strict=True):
        await run(uows, change_status, shop["admin"], order_id, OrderStatus.CANCELLED, reason)
    assert ids["C"]
    admin = client(ADMIN)
    ru = (await admin.send("/report today")).text
    assert "Отменено 4 заказа\n• Нет в наличии: 2\n• Дубль заказа: 1\n• Уехал: 1" in ru, ru
    await admin.send("/lang en")
    en = (await admin.send("/report today")).text
    assert "Cancelled: 4 orders\n• Out of stock: 2\n• A duplicate order: 1\n• Уехал: 1" in en

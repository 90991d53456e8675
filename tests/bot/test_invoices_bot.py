"""/requisites, /invoices, the PDF button, the operator's statement upload and the owner's
notices, through the bot (recording session, SQLite)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from aiogram.methods import SendDocument, SendMessage
from pypdf import PdfReader
from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.invoices.models import Invoice
from core.jobs import run_all
from core.notifications.limits import Limits, RateLimiter
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.bot_client import BotClient, RecordingSession
from tests.support.factories import join, new_account
from tests.support.statements import Doc, statement

OWNER, ADMIN, MANAGER, OPERATOR_CHAT = 1000, 2000, 3001, 777


@pytest.fixture
async def app(sqlite_url, clock):
    settings = Settings(
        _env_file=None, database_url=sqlite_url, bot_token=None, operator_chat_id=OPERATOR_CHAT
    )
    app = build_app(settings, session=RecordingSession(), clock=clock)
    app.sender.limiter = RateLimiter(Limits(1000, 1000, 1000))
    yield app
    await app.engine.dispose()


@pytest.fixture
async def shop(app):
    owner = await new_account(app.uows, name="Демо-магазин", tariff_code="start")
    await join(app.uows, owner, ADMIN, "admin")
    await join(app.uows, owner, MANAGER)
    return owner


def client(app, user_id: int, **kwargs) -> BotClient:
    return BotClient(app.dp, app.bot, user_id, **kwargs)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ")


def pdf_text(request: SendDocument) -> str:
    reader = PdfReader(io.BytesIO(request.document.data))
    return " ".join(reader.pages[0].extract_text().replace("\u00a0", " ").split())


def documents(requests) -> list[SendDocument]:
    return [r for r in requests if isinstance(r, SendDocument)]


async def test_requisites_are_checked_saved_and_audited(app, shop):
    owner = client(app, OWNER)
    shown = await owner.send("/requisites")
    assert "ещё не указаны" in shown.text and "/requisites ИНН; название; КПП; адрес" in shown.text
    wrong = await owner.send("/requisites 7707083894; ООО «Ромашка»; 770701001; Москва")
    assert "неверные контрольные цифры" in wrong.text and "7707083894" in wrong.text
    no_kpp = await owner.send("/requisites 7707083893; ООО «Ромашка»")
    assert "нужен КПП" in no_kpp.text
    saved = await owner.send("/requisites 7707083893; ООО «Ромашка»; 770701001; Москва; офис 5")
    assert "ИНН 7707083893" in saved.text and "КПП 770701001" in saved.text
    assert "Москва; офис 5" in saved.text
    trader = await owner.send("/requisites 500123456750; ИП Иванов И. И.; Тверь")
    assert "КПП" not in trader.text.split("\n", 2)[2]
    refused = await client(app, MANAGER).send("/requisites 500123456750; ИП; Тверь")
    assert "нет прав" in refused.text
    assert "удалены" in (await owner.send("/requisites clear")).text
    async with app.uows() as uow:
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("account.requisites%"))
            )
        )
    assert actions == [
        "account.requisites_set",
        "account.requisites_set",
        "account.requisites_cleared",
    ]


async def test_invoices_are_issued_as_pdf_listed_and_sent_again(app, shop):
    owner = client(app, OWNER)
    await owner.send("/requisites 5001007329; ООО «Ромашка»; 500101001; Мытищи")
    reply = await owner.send("/invoices prepay 3")
    (sent,) = documents(reply.requests)
    assert sent.document.filename == "SD-2026-000001.pdf"
    assert "Счёт SD-2026-000001 на 5 358,00 ₽" in plain(sent.caption)  # (1 500 + 380) × 3 − 5 %
    assert "<code>Оплата по счёту № SD-2026-000001 от 22.11.2026" in sent.caption
    text = pdf_text(sent)
    assert "Счёт на оплату № SD-2026-000001 от 22 ноября 2026 г." in text
    assert "ИНН 5001007329" in text and "Всего к оплате: 5 358,00" in text
    topup = documents((await owner.send("/invoices topup 12 500,50")).requests)[0]
    assert "Двенадцать тысяч пятьсот рублей 50 копеек" in pdf_text(topup)
    usage = await owner.send("/invoices prepay 2")
    assert "1, 3, 6, 12" in usage.text
    assert "Использование: /invoices prepay 3" in (await owner.send("/invoices later")).text
    assert "Использование" in (await owner.send("/invoices topup")).text
    assert "больше нуля" in (await owner.send("/invoices topup 0")).text
    listed = await owner.send("/invoices")
    assert "<b>SD-2026-000002</b> от 22.11.2026 · 12 500,50 ₽ · ожидает оплаты" in plain(
        listed.text
    )
    again = await owner.click("📄 SD-2026-000001")
    assert documents(again.requests)[0].document.filename == "SD-2026-000001.pdf"
    # The admin may look, not issue; a manager neither; a forged id of another account: no.
    admin = client(app, ADMIN)
    assert "SD-2026-000001" in (await admin.send("/invoices")).text
    assert "нет прав" in (await admin.send("/invoices prepay 1")).text
    assert "нет прав" in (await client(app, MANAGER).send("/invoices")).text
    other = await new_account(app.uows, owner_tg=5000, name="Other")
    async with app.uows() as uow:
        from core.invoices.models import InvoiceKind
        from core.invoices.operator import load_operator
        from core.invoices.service import issue_invoice

        foreign = await issue_invoice(
            uow,
            other,
            InvoiceKind.TOPUP,
            operator=load_operator(),
            catalog=app.catalog,
            amount=100_00,
        )
    from bot.invoices.callbacks import InvoicePdfCb

    forged = await owner.press(InvoicePdfCb(invoice_id=foreign.id).pack())
    assert "Такого счёта нет" in forged.alert and not documents(forged.requests)


async def test_operator_statement_in_the_chat_pays_and_tells_the_owner(app, shop):
    owner = client(app, OWNER)
    sent = documents((await owner.send("/invoices prepay 1")).requests)[0]
    number = sent.document.filename.removesuffix(".pdf")
    async with app.uows() as uow:
        total = (await uow.session.scalars(select(Invoice.total))).one()
    data = statement(
        Doc("15", f"{total // 100}.{total % 100:02d}", f"Оплата по счету №{number}"),
        Doc("16", "100.00", "за услуги"),
    )
    operator = client(app, OPERATOR_CHAT)
    report = await operator.send_document("statement.txt", data, mime_type="text/plain")
    assert report.text.startswith("Выписка загружена: учтено 1, ждут решения 1")
    assert f"№15: 1 880,00 ₽ → счёт {number} оплачен; оплачено по 22.12.2026." in plain(report.text)
    assert "платёж #2, отнесите его командой `billing assign 2`" in report.text
    start = len(app.bot.session.requests)
    await app.sender.drain()
    notices = [r for r in app.bot.session.requests[start:] if isinstance(r, SendMessage)]
    assert [(n.chat_id, plain(n.text)) for n in notices] == [
        (OWNER, f"Получен платёж 1 880,00 ₽ по счёту {number}; оплачено по 22.12.2026.")
    ]
    again = await operator.send_document("statement.txt", data, mime_type="text/plain")
    assert "загружены раньше 2" in again.text
    # Not the operator chat: a member's file is not a statement (the CSV import says so).
    assert "Выписка" not in (await owner.send_document("statement.txt", data)).text
    bad = await operator.send_document("x.txt", data.decode("cp1251").encode("utf-8"))
    assert "не в той кодировке" in bad.text


async def test_the_renewal_invoice_goes_out_with_the_reminders_once(app, shop, clock):
    async with app.uows() as uow:
        await uow.session.execute(update(Account).values(paid_through=date(2026, 11, 29)))
        await uow.commit()
    start = len(app.bot.session.requests)
    done = await run_all(app.uows, app.jobs)
    assert done["renewal_invoices"] == 1
    await run_all(app.uows, app.jobs)  # the next run: nothing new
    await app.sender.drain()
    (sent,) = documents(app.bot.session.requests[start:])
    assert sent.chat_id == OWNER and sent.document.filename == "SD-2026-000001.pdf"
    assert "Счёт SD-2026-000001 на 1 880,00 ₽" in plain(sent.caption)
    assert "Тариф «Стартовый», 1 мес." in pdf_text(sent)


async def test_a_read_only_account_can_still_get_an_invoice_to_pay(app, shop):
    async with app.uows() as uow:
        await uow.session.execute(update(Account).values(paid_through=date(2026, 11, 1)))
        await uow.commit()
    owner = client(app, OWNER)
    reply = await owner.send("/invoices prepay 1")
    assert documents(reply.requests)[0].document.filename == "SD-2026-000001.pdf"
    saved = await owner.send("/requisites 500123456750; ИП Иванов И. И.; Тверь")
    assert "ИНН 500123456750" in saved.text


async def _paid_through(app, account_id):
    async with app.uows() as uow:
        return await uow.session.scalar(
            select(Account.paid_through).where(Account.id == account_id)
        )


async def test_the_topup_and_prepay_dialogs_offer_an_invoice_instead_of_a_record(app, shop):
    owner = client(app, OWNER)
    before = await _paid_through(app, shop.account_id)
    asked = await owner.send("/topup 12 500,50")
    assert "Ещё не оплатили?" in asked.text and "📄 Счёт" in asked.buttons
    invoiced = await owner.click("📄 Счёт")
    (sent,) = documents(invoiced.requests)
    assert "Счёт SD-2026-000001 на 12 500,50 ₽" in plain(sent.caption)
    assert "Двенадцать тысяч пятьсот рублей 50 копеек" in pdf_text(sent)
    assert "уже закрыто" in (await owner.press("tuf:inv")).text  # the dialog ended: no second
    await owner.send("/prepay")
    await owner.click("3 мес.")
    prepay = documents((await owner.click("📄 Счёт")).requests)
    assert "Счёт SD-2026-000002 на 5 358,00 ₽" in plain(prepay[0].caption)
    async with app.uows() as uow:
        issued = list(await uow.session.scalars(select(Invoice.number).order_by(Invoice.id)))
    assert issued == ["SD-2026-000001", "SD-2026-000002"]
    assert await _paid_through(app, shop.account_id) == before  # an invoice records no payment

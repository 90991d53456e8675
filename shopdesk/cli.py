"""`python -m bot …` (or `python -m shopdesk …`): run the bot, apply migrations, manage accounts.

aiogram is imported only after `bot.lazy_types.install()` (in `main`), so that its models are
built on first use: that is the entry point's job, importing `bot` changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from bot import lazy_types
from bot.format import money
from core.accounts.service import NewAccount, create_account
from core.clock import SystemClock
from core.connectors.config import ConnectorConfig
from core.connectors.crypto import new_key
from core.connectors.platforms import PLATFORMS
from core.connectors.service import (
    Issued,
    Keys,
    create_connector_for_account,
    delete_for_account,
    list_connectors_for_account,
    rotate_for_account,
    set_paused_for_account,
)
from core.db.engine import create_engine, session_factory
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory
from core.errors import DomainError
from core.intake.tokens import issue_token_for_account
from core.invoices.models import InvoiceKind
from core.invoices.operator import load_operator
from core.invoices.reconcile import assign_payment, import_statement, unmatched_payments
from core.invoices.service import cancel_invoice, create_invoice
from core.invoices.service import document as invoice_document
from core.journal.billing import operator_top_up
from core.ledger.service import MAX_TOP_UP
from core.logs import configure_logging
from core.money import AmountError, parse_money
from core.settings import Settings, SettingsError, load_settings
from core.tariff.catalog import load_catalog
from core.tariff.service import record_prepayment
from shopdesk.heap import freeze_startup

log = logging.getLogger(__name__)
NO_TOKEN_DEMO = (
    "No BOT_TOKEN yet, so here is the demo shop in your terminal; to run the real bot, copy "
    ".env.example to .env, put your token from @BotFather there and run make run again."
)
NO_TOKEN = (
    "BOT_TOKEN is not set: copy .env.example to .env and put your bot's token from "
    "@BotFather there (or export BOT_TOKEN)."
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot", description="ShopDesk bot and admin CLI")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="apply migrations and start the bot (long polling)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser(
        "up", help="run the bot if BOT_TOKEN is set, otherwise the demo console (make run)"
    )
    commands.add_parser("demo", help="create the demo account (idempotent)")
    console = commands.add_parser("console", help="chat with the bot in the terminal (demo data)")
    console.add_argument(
        "--as",
        dest="who",
        default="owner",
        choices=["owner", "admin", "manager1", "manager2", "manager3"],
        help="who you are in the demo account (default: owner)",
    )
    account = commands.add_parser("account", help="manage accounts").add_subparsers(
        dest="account_command", required=True, metavar="ACTION"
    )
    create = account.add_parser("create", help="create an account with its owner")
    create.add_argument("--name", required=True, help="the business name")
    create.add_argument("--owner-telegram-id", required=True, type=int, help="owner's Telegram id")
    create.add_argument("--owner-name", default="Owner", help="owner's display name")
    create.add_argument("--tariff", default="standard", help="tariff code (default: standard)")
    create.add_argument("--timezone", default=None, help="IANA zone (default: DEFAULT_TIMEZONE)")
    create.add_argument("--locale", default=None, choices=["ru", "en"], help="account language")
    billing = commands.add_parser("billing", help="the platform subscription").add_subparsers(
        dest="billing_command", required=True, metavar="ACTION"
    )
    prepay = billing.add_parser(
        "prepay", help="record a prepayment; prints the new paid-through date on the last line"
    )
    prepay.add_argument("--account", required=True, type=int, help="account id")
    prepay.add_argument("--months", required=True, type=int, help="1, 3, 6 or 12")
    prepay.add_argument(
        "--reference", default=None, help="payment reference; the same one never counts twice"
    )
    statement = billing.add_parser(
        "import-statement",
        help="apply a bank statement (1C client-bank exchange file) to the invoices; importing "
        "it again, or an overlapping one, changes nothing",
    )
    statement.add_argument("file", type=Path, metavar="FILE", help="the statement, as exported")
    billing.add_parser("unmatched", help="bank payments waiting for a decision (billing assign)")
    assign = billing.add_parser(
        "assign", help="assign an unmatched bank payment to an invoice or an account's balance"
    )
    assign.add_argument("payment_id", type=int, metavar="PAYMENT_ID", help="from `unmatched`")
    target = assign.add_mutually_exclusive_group(required=True)
    target.add_argument("--invoice", help="the invoice number, e.g. SD-2026-000123")
    target.add_argument("--account", type=int, help="credit the account's balance")
    assign.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    cancel = billing.add_parser("cancel-invoice", help="cancel an unpaid invoice (kept, audited)")
    cancel.add_argument("number", metavar="NUMBER", help="e.g. SD-2026-000123")
    cancel.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    issue = billing.add_parser("invoice", help="issue an invoice for an account")
    issue.add_argument("--account", required=True, type=int, help="account id")
    what = issue.add_mutually_exclusive_group(required=True)
    what.add_argument("--months", type=int, help="the tariff for 1, 3, 6 or 12 months")
    what.add_argument("--amount", help="a balance top-up, rubles: 5000 or '12 500,50'")
    issue.add_argument("--pdf", type=Path, default=None, help="write the PDF to this file")
    topup = account.add_parser(
        "topup", help="record a payment received: credit the account's prepaid balance"
    )
    topup.add_argument("account_id", type=int, metavar="ACCOUNT_ID", help="the account's id")
    topup.add_argument(
        "amount",
        metavar="AMOUNT",
        help="rubles, as the bot reads them: 12500, '12 500,50' or 12500.50",
    )
    topup.add_argument(
        "--reference",
        required=True,
        help="the payment reference (e.g. bank transfer no.); it never credits twice",
    )
    token = account.add_parser(
        "token", help="create or rotate the account's intake API token (printed once)"
    )
    token.add_argument("account_id", type=int, metavar="ACCOUNT_ID")
    connectors = commands.add_parser(
        "connectors", help="shop connectors (Shopify, WooCommerce, Ecwid, Tilda, InSales)"
    ).add_subparsers(dest="connectors_command", required=True, metavar="ACTION")
    connectors.add_parser("keygen", help="print a new CONNECTOR_SECRET_KEY")
    add = connectors.add_parser("add", help="create a connector; prints the URL (and secret)")
    add.add_argument("account_id", type=int, metavar="ACCOUNT_ID")
    add.add_argument("platform", choices=sorted(PLATFORMS))
    add.add_argument("--secret", help="Shopify's signing key / Ecwid's client secret")
    add.add_argument("--store-id", help="Ecwid's store id")
    add.add_argument("--store-token", help="Ecwid's secret token")
    listing = connectors.add_parser("list", help="an account's connectors")
    listing.add_argument("account_id", type=int, metavar="ACCOUNT_ID")
    for action, text in (
        ("pause", "stop accepting deliveries (the shop gets 410)"),
        ("resume", "accept deliveries again"),
        ("rotate", "new secret or URL token (prints it); --secret for a pasted key"),
        ("delete", "delete a connector (its orders stay)"),
    ):
        one = connectors.add_parser(action, help=text)
        one.add_argument("account_id", type=int, metavar="ACCOUNT_ID")
        one.add_argument("connector_id", type=int, metavar="CONNECTOR_ID")
        if action == "rotate":
            one.add_argument("--secret")
            one.add_argument("--store-id")
            one.add_argument("--store-token")
    return root


@asynccontextmanager
async def operator_uows(settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    """For one CLI command: migrations applied, units of work on the configured database."""
    await migrate(settings)
    engine = create_engine(settings.database_url, postgres=settings.postgres_options("cli"))
    try:
        yield UnitOfWorkFactory(
            session_factory(engine), SystemClock(), chat_menus=bool(settings.webapp_url)
        )
    finally:
        await engine.dispose()


async def migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url, postgres=settings.postgres_options("migrate"))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def account_create(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_uows(settings) as uows, uows() as uow:
        account = await create_account(
            uow,
            NewAccount(
                name=args.name,
                owner_telegram_id=args.owner_telegram_id,
                owner_name=args.owner_name,
                tariff_code=args.tariff,
                timezone=args.timezone or settings.default_timezone,
                locale=args.locale or settings.default_locale,
            ),
            catalog=load_catalog(settings.tariff_catalog),
        )
    print(f"Created account {account.name!r}; its owner can now open the bot. Account id:")
    print(account.id)
    return 0


async def demo(settings: Settings) -> int:
    from core.demo import DEMO_NAME, ensure_demo

    async with operator_uows(settings) as uows:
        made = await ensure_demo(uows, timezone=settings.default_timezone)
    state = "created" if made.created else "already there"
    print(
        f"Demo account {DEMO_NAME!r} {state} (id {made.account_id}). "
        "Try it: python -m bot console [--as admin|manager1]"
    )
    return 0


async def console(settings: Settings, who: str) -> int:
    if settings.log_level != "DEBUG":
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
    await migrate(settings)
    await run_console(settings, who)
    return 0


async def run_console(
    settings: Settings, who: str, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> None:
    """Builds the real app on an offline session and a movable clock, then chats."""
    from bot.console.chat import OfflineSession
    from bot.console.runner import Console, stdin_lines
    from core.clock import FrozenClock
    from core.demo import ensure_demo
    from shopdesk.app import build_app

    app = build_app(settings, session=OfflineSession(), clock=FrozenClock(SystemClock().now()))
    try:
        await ensure_demo(app.uows, timezone=settings.default_timezone)
        console = Console(app, stdout or sys.stdout, Path("data/console"), who=who)
        await console.run(stdin_lines(stdin or sys.stdin))
    finally:
        await app.engine.dispose()


async def billing_prepay(settings: Settings, args: argparse.Namespace) -> int:
    catalog = load_catalog(settings.tariff_catalog)
    async with operator_uows(settings) as uows, uows() as uow:
        result = await record_prepayment(uow, args.account, args.months, args.reference, catalog)
    payment = result.payment
    if result.duplicate:
        print(
            f"Reference {payment.reference!r} was already recorded on "
            f"{payment.created_at:%Y-%m-%d}; nothing changed. Paid through:"
        )
    else:
        months = "1 month" if payment.months == 1 else f"{payment.months} months"
        print(
            f"Recorded {months}, {money(payment.amount)}, for account {args.account}. Paid through:"
        )
    print(result.paid_through.isoformat())
    return 0


def english(render):
    """Runs a bot renderer in the operator's words (the bot's English catalog)."""
    from bot.i18n import build_i18n

    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        return render()


async def billing_import_statement(settings: Settings, args: argparse.Namespace) -> int:
    from bot.invoices import render

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"Error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    async with operator_uows(settings) as uows, uows() as uow:
        result = await import_statement(
            uow,
            data,
            operator=load_operator(settings.operator_details),
            catalog=load_catalog(settings.tariff_catalog),
            underpayment=settings.invoice_underpayment,
        )
    print(english(lambda: render.report(result)).replace("\u00a0", " "))
    return 1 if result.count("malformed", "refused", "failed") else 0


async def billing_unmatched(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_uows(settings) as uows, uows() as uow:
        payments = await unmatched_payments(uow)
    if not payments:
        print("No bank payments wait for a decision.")
        return 0
    for p in payments:
        print(
            f"#{p.id}  {p.doc_date:%d.%m.%Y} No.{p.doc_number}  {rubles(p.amount)} RUB  "
            f"INN {p.payer_inn or '-'}  {p.payer_name or '-'}  [{p.reason}]  {p.purpose or ''}"
        )
    print("Assign one: python -m bot billing assign ID --invoice NUMBER|--account ID --reason …")
    return 0


async def billing_assign(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_uows(settings) as uows, uows() as uow:
        payment, invoice, applied = await assign_payment(
            uow,
            args.payment_id,
            reason=args.reason,
            catalog=load_catalog(settings.tariff_catalog),
            invoice_number=args.invoice,
            account_id=args.account,
            underpayment=settings.invoice_underpayment,
        )
    where = f"invoice {invoice.number} ({invoice.status})" if invoice else "the balance"
    print(
        f"Payment #{payment.id} ({rubles(payment.amount)}) assigned to {where} of account "
        f"{payment.account_id}: {rubles(applied.to_invoice)} to the invoice, "
        f"{rubles(applied.to_balance)} to the balance."
    )
    if applied.paid_through is not None:
        print(f"Paid through {applied.paid_through.isoformat()}.")
    return 0


async def billing_cancel_invoice(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_uows(settings) as uows, uows() as uow:
        row = await cancel_invoice(uow, args.number, args.reason)
    print(f"Invoice {row.number} cancelled (the record stays).")
    return 0


async def billing_invoice(settings: Settings, args: argparse.Namespace) -> int:
    amount = None
    if args.amount is not None:
        try:
            amount = parse_money(args.amount, maximum=MAX_TOP_UP)
        except AmountError as exc:
            print(f"Error: {topup_problem(exc)}", file=sys.stderr)
            return 2
    kind = InvoiceKind.PREPAY if args.months is not None else InvoiceKind.TOPUP
    async with operator_uows(settings) as uows, uows() as uow:
        row = await create_invoice(
            uow,
            args.account,
            kind,
            operator=load_operator(settings.operator_details),
            catalog=load_catalog(settings.tariff_catalog),
            months=args.months,
            amount=amount,
        )
        await uow.commit()
        doc = invoice_document(row)
    if args.pdf is not None:
        from core.invoices.pdf import render_pdf  # fpdf2 only when a PDF is asked for

        args.pdf.write_bytes(render_pdf(doc))
        print(f"PDF written to {args.pdf}.")
    print(f"Issued for account {args.account}: {rubles(doc['total'])} RUB. Invoice number:")
    print(doc["number"])
    return 0


def rubles(kopecks: int) -> str:
    return f"{kopecks // 100}.{kopecks % 100:02d}"


# The top-up's problems in the words of its arguments (the bot's texts name bot commands).
TOPUP_ERRORS = {
    "money_format": (
        "AMOUNT must be rubles like 12500, '12 500,50' or 12500.50 (digits grouped by three with "
        "spaces, kopecks after a comma or point), not {value!r}."
    ),
    "money_ambiguous": (
        "AMOUNT {value!r} can be read as {thousands} or {decimal}: write {thousands_text} or "
        "{decimal_text} (kopecks take two digits)."
    ),
    "money_too_large": "AMOUNT {value!r} is too large: at most {maximum} in one top-up.",
    "amount_positive": "AMOUNT must be above zero.",
    "reference_empty": (
        "--reference is empty: give the payment's reference, e.g. the bank transfer number."
    ),
    "reference_too_long": "--reference is too long: at most {limit} characters.",
}
TOPUP_MONEY = frozenset({"maximum", "thousands", "decimal"})


def topup_problem(error: DomainError) -> str | None:
    template = TOPUP_ERRORS.get(error.code)
    if template is None:
        return None
    params = {k: money(v) if k in TOPUP_MONEY else v for k, v in error.params.items()}
    return template.format(**params)


async def account_topup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if not args.reference.strip():
            raise DomainError("reference_empty")
        amount = parse_money(args.amount, maximum=MAX_TOP_UP)
        if amount <= 0:
            raise DomainError("amount_positive")
    except (AmountError, DomainError) as exc:
        print(f"Error: {topup_problem(exc)}", file=sys.stderr)
        return 2
    try:
        async with operator_uows(settings) as uows, uows() as uow:
            result = await operator_top_up(uow, args.account_id, amount, args.reference)
    except DomainError as exc:
        problem = topup_problem(exc)
        if problem is None:
            raise  # told by main() in the bot's words (no command named there)
        print(f"Error: {problem}", file=sys.stderr)
        return 1
    entry = result.entry
    if result.replayed:
        print(
            f"Reference {entry.note!r} was already recorded on "
            f"{entry.created_at:%Y-%m-%d %H:%M} UTC for {rubles(entry.amount)}; "
            "nothing credited again."
        )
    else:
        print(f"Credited {rubles(amount)} to account {args.account_id} (reference {entry.note!r}).")
    for transition in result.transitions:
        if transition.charged:
            print(f"Renewed service #{transition.service_id} ({transition.catalog_code}).")
    print("Balance, rubles:")
    print(rubles(result.balance))
    return 0


async def account_token(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_uows(settings) as uows, uows() as uow:
        issued = await issue_token_for_account(uow, args.account_id)
    replaced = " The previous token no longer works." if issued.rotated else ""
    print(f"Intake API token of {issued.account_name!r}, shown only now.{replaced} Token:")
    print(issued.token)
    return 0


def _print_issued(issued: Issued) -> None:
    print(f"Connector #{issued.connector_id} ({issued.platform}). URL to paste into the shop:")
    print(issued.url)
    if issued.secret:
        print("Secret (shown only now):")
        print(issued.secret)


async def connectors_command(settings: Settings, args: argparse.Namespace) -> int:
    action = args.connectors_command
    if action == "keygen":
        print(new_key())
        return 0
    config = ConnectorConfig.from_settings(settings)
    keys = Keys(
        getattr(args, "secret", None),
        getattr(args, "store_id", None),
        getattr(args, "store_token", None),
    )
    async with operator_uows(settings) as uows, uows() as uow:
        if action == "add":
            _print_issued(
                await create_connector_for_account(
                    uow, args.account_id, args.platform, config, keys
                )
            )
        elif action == "rotate":
            _print_issued(
                await rotate_for_account(uow, args.account_id, args.connector_id, config, keys)
            )
        elif action in ("pause", "resume"):
            view = await set_paused_for_account(
                uow, args.account_id, args.connector_id, action == "pause"
            )
            print(f"Connector #{view.id} is {view.status}.")
        elif action == "delete":
            await delete_for_account(uow, args.account_id, args.connector_id)
            print(f"Connector #{args.connector_id} is deleted.")
        else:
            views = await list_connectors_for_account(uow, args.account_id)
            if not views:
                print("No connectors.")
            for v in views:
                last = v.last_delivery_at.isoformat() if v.last_delivery_at else "never"
                error = f", last error {v.last_error!r}" if v.last_error else ""
                print(
                    f"#{v.id} {v.platform} {v.status}: last delivery {last}, "
                    f"{v.orders_count} orders, {v.pending} waiting{error}"
                )
    return 0


async def run(settings: Settings) -> int:
    from bot.lifecycle import dump_tasks  # aiogram is needed only for running the bot
    from shopdesk.app import build_app

    await migrate(settings)
    app = build_app(settings)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, dump_tasks)
    frozen = freeze_startup()  # start-up is over: full collections skip what it made
    log.debug("froze %d start-up objects out of the garbage collector", frozen)
    if settings.webhook_url:
        await serve_webhook(app)
    else:
        log.info("starting long polling")
        await app.dp.start_polling(
            app.bot,
            handle_signals=True,
            close_bot_session=True,
            tasks_concurrency_limit=settings.max_concurrent_updates,
            allowed_updates=app.dp.resolve_used_update_types(),
        )
    log.info("stopped cleanly")
    return 0


async def serve_webhook(app) -> None:
    """Webhook mode: the HTTP server (started with the dispatcher) takes Telegram's posts; the
    webhook itself is registered in the background by `start` (Telegram may be unreachable)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopping.set)
    await app.dp.emit_startup(bot=app.bot, dispatcher=app.dp)
    try:
        log.info("serving the webhook until SIGTERM")
        await stopping.wait()
    finally:
        await app.dp.emit_shutdown(bot=app.bot, dispatcher=app.dp)
        await app.bot.session.close()


def main(argv: list[str] | None = None) -> int:
    lazy_types.install()  # before anything imports aiogram
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "migrate":
            asyncio.run(migrate(settings))
            print("Database is up to date.")
            return 0
        if args.command == "account":
            actions = {"create": account_create, "topup": account_topup, "token": account_token}
            return asyncio.run(actions[args.account_command](settings, args))
        if args.command == "demo":
            return asyncio.run(demo(settings))
        if args.command == "console":
            return asyncio.run(console(settings, args.who))
        if args.command == "up" and settings.bot_token is None:
            print(NO_TOKEN_DEMO, file=sys.stderr)
            return asyncio.run(console(settings, "owner"))
        if args.command == "connectors":
            return asyncio.run(connectors_command(settings, args))
        if args.command == "billing":
            billing = {
                "prepay": billing_prepay,
                "import-statement": billing_import_statement,
                "unmatched": billing_unmatched,
                "assign": billing_assign,
                "cancel-invoice": billing_cancel_invoice,
                "invoice": billing_invoice,
            }
            return asyncio.run(billing[args.billing_command](settings, args))
        if settings.bot_token is None:
            print(NO_TOKEN, file=sys.stderr)
            return 2
        return asyncio.run(run(settings))
    except DomainError as exc:
        print(f"Error: {describe(exc, settings)}", file=sys.stderr)
        return 1


def describe(error: DomainError, settings: Settings) -> str:
    """A domain error in the operator's words (the bot's English catalog)."""
    from bot.i18n import build_i18n
    from bot.telegram import error_explainer

    return error_explainer(build_i18n(settings.default_locale))(error)

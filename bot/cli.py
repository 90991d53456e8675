"""`python -m bot …`: run the bot, apply migrations, manage accounts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.accounts.service import NewAccount, create_account
from core.clock import SystemClock
from core.db.engine import create_engine, session_factory
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory
from core.errors import DomainError
from core.intake.tokens import issue_token_for_account
from core.settings import Settings, SettingsError, load_settings

NO_TOKEN = (
    "BOT_TOKEN is not set: copy .env.example to .env and put your bot's token from "
    "@BotFather there (or export BOT_TOKEN)."
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot", description="ShopDesk bot and admin CLI")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="apply migrations and start the bot (long polling)")
    commands.add_parser("migrate", help="apply database migrations and exit")
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
    token = account.add_parser(
        "token", help="create or rotate the account's intake API token (printed once)"
    )
    token.add_argument("account_id", type=int, metavar="ACCOUNT_ID")
    return root


async def migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def account_create(settings: Settings, args: argparse.Namespace) -> int:
    await migrate(settings)
    engine = create_engine(settings.database_url)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    try:
        async with uows() as uow:
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
            )
    finally:
        await engine.dispose()
    print(f"Created account {account.name!r}; its owner can now open the bot. Account id:")
    print(account.id)
    return 0


async def account_token(settings: Settings, args: argparse.Namespace) -> int:
    await migrate(settings)
    engine = create_engine(settings.database_url)
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
    try:
        async with uows() as uow:
            issued = await issue_token_for_account(uow, args.account_id)
    finally:
        await engine.dispose()
    replaced = " The previous token no longer works." if issued.rotated else ""
    print(f"Intake API token of {issued.account_name!r}, shown only now.{replaced} Token:")
    print(issued.token)
    return 0


async def run(settings: Settings) -> int:
    from bot.app import build_app  # aiogram is needed only for running the bot

    await migrate(settings)
    app = build_app(settings)
    logging.getLogger(__name__).info("starting long polling")
    await app.dp.start_polling(app.bot, handle_signals=True, close_bot_session=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "migrate":
            asyncio.run(migrate(settings))
            print("Database is up to date.")
            return 0
        if args.command == "account" and args.account_command == "token":
            return asyncio.run(account_token(settings, args))
        if args.command == "account":
            return asyncio.run(account_create(settings, args))
        if settings.bot_token is None:
            print(NO_TOKEN, file=sys.stderr)
            return 2
        return asyncio.run(run(settings))
    except DomainError as exc:
        print(f"Error: {describe(exc, settings)}", file=sys.stderr)
        return 1


def describe(error: DomainError, settings: Settings) -> str:
    """A domain error in the operator's words (the bot's English catalog)."""
    from bot.errors import error_text
    from bot.i18n import build_i18n

    i18n = build_i18n(settings.default_locale)
    with i18n.context(), i18n.use_locale("en"):
        return error_text(error)

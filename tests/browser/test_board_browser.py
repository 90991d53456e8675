"""The board in a real Chromium (Debian's, driven by Playwright) against a running server.

`window.Telegram.WebApp` is a stub injected before the page loads: it carries initData signed
with the test bot's token, the theme and the main / back buttons; Telegram's own script is
answered with an empty one. One server and one browser serve the whole module.
Screenshots (360×740, light and dark) go to build/screenshots/ (SHOPDESK_SCREENSHOTS).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from core.clock import FrozenClock
from core.journal.models import ConnectedService
from core.members.permissions import Perm
from core.orders.models import Order
from core.orders.service import assign_order, change_status
from shopdesk.app import build_app
from tests.conftest import T0
from tests.support import journal
from tests.support.bot_client import RecordingSession
from tests.support.db import copy_sqlite
from tests.support.factories import actor_for, join, new_account
from tests.support.orders import add_order
from tests.support.webapp import sign_init_data, webapp_settings
from web.server import build_web_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("SHOPDESK_SCREENSHOTS", "build/screenshots"))
VIEWPORT = {"width": 360, "height": 740}
WAIT_MS = 10_000  # an upper bound on waiting for the page, not a speed requirement

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)
if shutil.which(CHROMIUM) is None:
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) or set "
        "CHROMIUM_PATH; the browser tests are skipped",
        allow_module_level=True,
    )
expect = playwright_api.expect

LIGHT = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#2481cc",
    "button_color": "#2481cc",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f1f1f4",
}
DARK = {
    "bg_color": "#212d3b",
    "text_color": "#ffffff",
    "hint_color": "#7d8b99",
    "link_color": "#5eb5f7",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#151e27",
}

STUB = """
(() => {
  const calls = [];
  const button = () => ({
    text: "", isVisible: false, handlers: [],
    setText(text) { this.text = text; return this; },
    onClick(f) { this.handlers.push(f); return this; },
    offClick(f) { this.handlers = this.handlers.filter((h) => h !== f); return this; },
    show() { this.isVisible = true; return this; },
    hide() { this.isVisible = false; return this; },
  });
  window.Telegram = { WebApp: {
    initData: %(init_data)s, initDataUnsafe: {}, version: "8.0", platform: "tdesktop",
    colorScheme: %(scheme)s, themeParams: %(theme)s,
    ready() {}, expand() {}, onEvent() {}, offEvent() {},
    MainButton: button(), BackButton: button(),
    HapticFeedback: { calls, notificationOccurred(kind) { calls.push(kind); },
      impactOccurred(kind) { calls.push(kind); }, selectionChanged() {} },
  } };
})();
"""


class Server:
    """The app's HTTP server on its own event loop in a thread; `run` executes set-up there."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = FrozenClock(T0)
        settings = webapp_settings(database_url, webapp_poll_seconds=1)
        self.app = build_app(settings, session=RecordingSession(), clock=self.clock)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.base = self.run(self._start())

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def _start(self) -> str:
        from aiohttp import web

        self.runner = web.AppRunner(build_web_app(self.app.web))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.app.engine.dispose()

    def stop(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _world(uows) -> dict:
    owner = await new_account(uows, name="Демо-магазин")
    await join(uows, owner, 2000, "admin", username="admin")
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    account = owner.account_id
    ids = {}
    for number, name, phone, total in (
        ("1041", "Анна Смирнова", "+7 912 555-01-02", 1_250_000),
        ("1040", "Олег Кузнецов", "+7 903 111-22-33", 349_000),
        ("1039", "Мария Иванова", "+7 926 444-55-66", 89_900),
        ("1038", "Игорь Соколов", "+7 915 777-88-99", 2_100_000),
        ("1037", "Елена Попова", "+7 985 222-33-44", 560_000),
    ):
        ids[number] = await add_order(
            uows, account, number, customer_name=name, customer_phone=phone, total=total
        )
    async with uows() as uow:
        await assign_order(uow, owner, ids["1038"], vasya.member_id)
    async with uows() as uow:
        await assign_order(uow, owner, ids["1037"], petya.member_id)
    petya = await actor_for(uows, 3001)
    for status in ("in_progress", "completed"):
        async with uows() as uow:
            await change_status(uow, petya, ids["1037"], status)
    await journal.fund(uows, owner, 1_000_000)
    chat = await journal.order(uows, owner, "chat_widget")
    await journal.set_up(uows, owner, chat.service.id)
    await journal.order(uows, owner, "callback_widget")
    return {"ids": ids, "service": chat.service.id, "account": account}


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    url = copy_sqlite(sqlite_template, tmp_path_factory.mktemp("browser") / "board.db")
    server = Server(url)
    server.world = server.run(_world(server.app.uows))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def open_board(server, browser):
    """telegram id (, dark) → a page showing the board as that member, in a fresh context."""
    contexts = []
    strays: list[str] = []

    def opener(telegram_id: int, *, dark: bool = False):
        context = browser.new_context(
            viewport=VIEWPORT, color_scheme="dark" if dark else "light", device_scale_factor=2
        )
        contexts.append(context)
        init_data = sign_init_data(telegram_id, server.clock.now())
        context.add_init_script(
            STUB
            % {
                "init_data": json.dumps(init_data),
                "scheme": json.dumps("dark" if dark else "light"),
                "theme": json.dumps(DARK if dark else LIGHT),
            }
        )
        context.route(
            "https://telegram.org/**",
            lambda route: route.fulfill(body="", content_type="application/javascript"),
        )

        def note(request) -> None:
            if not request.url.startswith((server.base, "https://telegram.org/", "data:")):
                strays.append(request.url)

        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("request", note)
        page.goto(server.base + "/app/")
        expect(page.locator(".board")).to_be_visible(timeout=WAIT_MS)
        return page

    yield opener
    for context in contexts:
        context.close()
    assert strays == [], "the page asked somewhere other than our API and Telegram's script"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the top of the view, as it opens
    page.screenshot(path=str(SHOTS / f"miniapp-{name}.png"))


def _db(server, model, id_):
    async def read():
        async with server.app.uows() as uow:
            return await uow.session.get(model, id_)

    return server.run(read())


# ---- scenarios -------------------------------------------------------------------------------


def test_a_manager_searches_by_phone_claims_and_a_colleague_sees_it(server, open_board):
    ids = server.world["ids"]
    petya = open_board(3001)
    vasya = open_board(3002)
    free = '.column[data-col="new"] .order[data-number="1041"]'
    expect(vasya.locator(free)).to_be_visible()
    shot(petya, "board-light")

    petya.fill("#search", "912 555")
    expect(petya.locator('.column[data-col="new"] .order')).to_have_count(1, timeout=WAIT_MS)
    expect(petya.locator(free)).to_be_visible()
    petya.locator(free).get_by_role("button", name="Взять").click()

    moved = '.column[data-col="in_progress"] .order[data-number="1041"]'
    expect(petya.locator(moved)).to_be_visible(timeout=WAIT_MS)
    expect(petya.locator('.tabs button[data-col="in_progress"]')).to_have_attribute(
        "aria-selected", "true"
    )
    assert "success" in petya.evaluate("window.Telegram.WebApp.HapticFeedback.calls")
    assert _db(server, Order, ids["1041"]).assignee_id is not None

    # The colleague's board polls (every second here) and loses the order from New.
    expect(vasya.locator(free)).to_have_count(0, timeout=WAIT_MS)
    vasya.click('.segmented button[data-scope="team"]')
    vasya.click('.tabs button[data-col="in_progress"]')
    taken = vasya.locator(moved)
    expect(taken).to_be_visible(timeout=WAIT_MS)
    expect(taken).to_contain_text("@petya")


def test_the_card_shows_the_customer_and_changes_status(server, open_board):
    ids = server.world["ids"]
    page = open_board(3001)
    page.click('.tabs button[data-col="in_progress"]')
    page.locator('.order[data-number="1041"] .num').click()
    card = page.locator("#card")
    expect(card).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#customer")).to_contain_text("Анна Смирнова")
    assert page.evaluate("window.Telegram.WebApp.BackButton.isVisible") is True

    page.fill('#add-task input[name="text"]', "Перезвонить клиенту")
    page.click('#add-task button[type="submit"]')
    expect(page.locator("#tasks .task")).to_have_count(1, timeout=WAIT_MS)
    shot(page, "card-light")

    page.click('[data-status="completed"]')
    expect(page.locator("#card-status")).to_have_text("выполнен", timeout=WAIT_MS)
    assert _db(server, Order, ids["1041"]).status == "completed"
    expect(page.locator("#log")).to_contain_text("Статус изменён")


def test_a_colleague_s_card_is_a_summary_without_actions(server, open_board):
    page = open_board(3001)
    page.click('.segmented button[data-scope="team"]')
    page.click('.tabs button[data-col="in_progress"]')
    page.locator('.order[data-number="1038"] .num').click()
    expect(page.locator("#limited")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#customer")).to_have_count(0)
    expect(page.locator("#card-actions")).to_have_count(0)


def test_an_owner_toggles_auto_renew(server, open_board):
    service = server.world["service"]
    page = open_board(1000)
    page.click("#to-services")
    switch = page.locator(f'[data-renew="{service}"]')
    expect(switch).to_be_checked(timeout=WAIT_MS)
    expect(page.locator("#runway")).to_be_visible()
    shot(page, "services-light")
    switch.click()
    expect(switch).not_to_be_checked()
    expect(switch).to_be_enabled(timeout=WAIT_MS)
    assert _db(server, ConnectedService, service).auto_renew is False


def test_returning_a_service_asks_with_what_it_does_to_the_renewals(server, open_board):
    async def disconnected() -> int:
        from core.journal import service as journal_service

        owner = await actor_for(server.app.uows, 1000)
        ordered = await journal.order(server.app.uows, owner, "email_tracking")
        await journal.set_up(server.app.uows, owner, ordered.service.id)
        async with server.app.uows() as uow:
            await journal_service.disconnect_service(uow, owner, ordered.service.id)
        return ordered.service.id

    service = server.run(disconnected())
    page = open_board(1000)
    page.click("#to-services")
    with page.expect_event("dialog", timeout=WAIT_MS) as shown:
        page.locator(f'[data-return="{service}"]').click()
    question = shown.value.message
    shown.value.dismiss()  # "no": nothing is charged
    assert "Баланс сейчас:" in question and "после списания:" in question, question
    assert "Автопродление" in question or "Продлится" in question, question
    expect(page.locator(f'[data-return="{service}"]')).to_be_visible(timeout=WAIT_MS)
    assert _db(server, ConnectedService, service).status == "disconnected"


def test_an_owner_reads_the_sales_chart(server, open_board):
    page = open_board(1000)
    page.click("#to-report")
    page.click('#periods button[data-period="today"]')
    bar = page.locator('.bar:has-text("@petya")')
    expect(bar).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#report-total")).to_contain_text("₽")
    bar.click()
    expect(bar).to_have_class("bar picked", timeout=WAIT_MS)
    expect(page.locator("#report-detail")).to_contain_text("@petya", timeout=WAIT_MS)
    page.click('#periods button[data-period="today"]')  # drawn again: the pick stays
    expect(page.locator("#report-total")).to_contain_text("₽", timeout=WAIT_MS)
    expect(bar).to_have_class("bar picked", timeout=WAIT_MS)
    expect(page.locator("#report-detail")).to_contain_text("@petya", timeout=WAIT_MS)
    shot(page, "report-light")


def _luminance(rgb: str) -> float:
    values = [int(v) / 255 for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(page, selector: str, background_selector: str) -> float:
    color = page.locator(selector).first.evaluate("e => getComputedStyle(e).color")
    back = page.locator(background_selector).first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    light, dark = sorted((_luminance(color), _luminance(back)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_dark_theme_is_readable(server, open_board):
    page = open_board(2000, dark=True)
    page.click('.segmented button[data-scope="team"]')
    expect(page.locator('.segmented button[data-scope="team"]')).to_have_attribute(
        "aria-selected", "true"
    )
    assert page.evaluate("document.documentElement.dataset.scheme") == "dark"
    body = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert body == "rgb(33, 45, 59)"  # Telegram's bg_color, not the light default
    assert _contrast(page, ".order .num", ".order") >= 4.5
    assert _contrast(page, ".order .meta", ".order") >= 3
    shot(page, "board-dark")
    page.click('.tabs button[data-col="in_progress"]')
    page.locator('.order[data-number="1038"] .num').click()
    expect(page.locator("#customer")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#customer-history")).to_contain_text("👤")  # the customer's history
    assert _contrast(page, "#customer dd", "#customer") >= 4.5
    shot(page, "card-dark")


def test_permissions_hold_for_the_services_view(server, open_board):
    """A manager sees the journal but no toggles (services.manage is admins' and owners')."""
    page = open_board(3002)
    page.click("#to-services")
    expect(page.locator("#services")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("[data-renew]")).to_have_count(0)
    assert Perm.SERVICES_MANAGE.value == "services.manage"


def test_cancelling_on_the_card_asks_why_and_keeps_the_reason(server, open_board):
    ids = server.world["ids"]
    page = open_board(2000)
    page.locator('.order[data-number="1040"] .num').click()
    page.click('[data-status="cancelled"]')
    expect(page.locator("#reasons")).to_contain_text("Почему отменяете?", timeout=WAIT_MS)
    assert _db(server, Order, ids["1040"]).status == "new"  # nothing before a reason
    page.click('#reasons [data-reason="out_of_stock"]')
    expect(page.locator("#card-status")).to_have_text("отменён", timeout=WAIT_MS)
    cancelled = _db(server, Order, ids["1040"])
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "out_of_stock")

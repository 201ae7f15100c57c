"""Browser fixtures: one local stack whose demo drivers answer by themselves, and one headless Chromium for
the session (Debian's `chromium`, installed by scripts/install_chromium.sh), a fresh context (storage,
cookies) per test. Playwright drives it from Python; its own browser downloads are never used."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from tests.e2e.stack import DEMO_ADMIN_KEY, StackClient, StackProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Locators wait this long for what the console shows: several 2 s refreshes, and a slow machine.
EXPECT_TIMEOUT_MS = 20_000
SIMULATED_DRIVERS = 5
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    process = StackProcess(Path(tmp_path_factory.mktemp("console_stack")) / "local_stack.log", SIMULATED_DRIVERS)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def demo(console_stack: StackProcess) -> StackClient:
    return StackClient(console_stack.base_url)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_chromium.sh (make test does)", pytrace=False)
    # launch() gives every session a fresh temporary profile (user-data dir), removed on close.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class ConsoleErrors(list[str]):
    """What the page reported as errors: script exceptions, failed loads, Content-Security-Policy refusals."""

    def listen(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.append(f"page error: {error}"))
        page.on("console", self._message)

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.append(message.text)


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Browser, console_stack: StackProcess, console_errors: ConsoleErrors) -> Iterator[Page]:
    context = browser.new_context(base_url=console_stack.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    console_errors.listen(page)
    yield page
    context.close()


def sign_in(page: Page, key: str = DEMO_ADMIN_KEY) -> None:
    page.goto("/console")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def create_ride(page: Page, customer: str = "Sam Customer", phone: str = "+447700900999") -> None:
    """Fill and send the Now panel's form."""
    page.get_by_label("Customer name").fill(customer)
    page.get_by_label("Customer phone").fill(phone)
    page.get_by_label("Pickup address").fill("1 High St")
    page.get_by_label("Dropoff address").fill("Central Station")
    page.get_by_role("button", name="Create ride").click()


def created_code(page: Page) -> str:
    """The code of the ride just created, from the console's own notice."""
    notice = page.locator("#notice")
    notice.filter(has_text="created").wait_for()
    return notice.inner_text().split()[1]

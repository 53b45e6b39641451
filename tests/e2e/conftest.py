"""A real server process on the test database, and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.conftest import empty_tables

CHROMIUM = os.environ.get("XINGDONG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Package scope: the server runs a job worker, and left running into the integration
# tests it competed with them for rows they lock (rare deadlocks there).
@pytest.fixture(scope="package")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "XINGDONG_DATABASE_URL": database_url,
        # Evidence uploads and other files stay in the test's own folder.
        "XINGDONG_DATA_DIR": str(tmp_path_factory.mktemp("server-data")),
        # Every browser and API client here is on one machine and registers people by the
        # dozen: the rules that count accounts per address would rightly see a farm.
        "XINGDONG_RISK_RULES_FILE": str(Path(__file__).with_name("risk_rules_one_machine.json")),
        "XINGDONG_SMS_REVEAL_CODES": "true",
        "XINGDONG_RATE_LIMIT_LOGIN": "1000/minute",
        "XINGDONG_RATE_LIMIT_SMS_PHONE": "100/minute",
        "XINGDONG_RATE_LIMIT_SMS_IP": "1000/hour",
        "XINGDONG_LOG_JSON": "false",
        "XINGDONG_LOG_LEVEL": "WARNING",
        "XINGDONG_SECRET_KEY": "e2e-secret-key-0123456789",
        # A test approves a campaign and opens the task center a moment later; by default
        # the feed's index may be two seconds behind the database (docs/dispatch.md).
        "XINGDONG_DISPATCH_SYNC_SECONDS": "0",
        # Webhooks go to receivers on this machine (the server's own demo inbox).
        "XINGDONG_WEBHOOK_PRIVATE_TARGETS": "true",
    }
    log_path = ARTIFACTS / f"e2e-server-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "xingdong", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited early; see {log_path}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the server did not become ready in 60 s")
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


# Module scope: Playwright's synchronous API keeps an event loop running in this thread
# while it is open, which asyncio tests collected later could not start under.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for browser tests: install it at {CHROMIUM}")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def site(server: str, database_url: str) -> str:
    empty_tables(database_url)
    return server


def new_context(browser: Browser, site: str, viewport: str) -> BrowserContext:
    """A browser context of its own (cookies, storage) on this screen size."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
        base_url=site,
        locale="zh-CN",
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Browser, site: str) -> Iterator[Page]:
    context = new_context(browser, site, request.param)
    page = context.new_page()
    page.viewport_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()

"""Real headless Chromium (Debian's /usr/bin/chromium, driven by Python playwright) against live_server.

    @pytest.mark.browser
    def test_something(live_server, browser_page):
        browser_page.goto(live_server.url + "/accounts/login/")

`browser_page` is a desktop page (1280x800), `phone_page` a phone (360x740, touch). Each test gets a
fresh browser context (no cookies carried over); the browser itself is started once per session.
Fixture `log_in(page, user)` signs a user in through the real login form (and, for a role that needs a
second factor, types the code of the authenticator it binds for him beforehand), and
`assert_renders_chinese(page)` checks that Chinese is drawn with a real font. A test fails if the
page raised an uncaught JavaScript error or the Content-Security-Policy blocked something. Without
Chromium the tests are skipped, except under CI=true, where they fail: CI must never pass by skipping
them (`make browsers` installs it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from the test
# body ("async context") although nothing here is async. The live server runs in its own thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TIMEOUT_MS = 10_000


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: `make browsers` installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python playwright is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(chromium, **context_options):
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.js_errors = []  # uncaught exceptions in the page, and assets the server refused; checked at teardown

    def refused_asset(response) -> None:
        if response.status >= 400 and response.request.resource_type not in ("document", "xhr", "fetch"):
            page.js_errors.append(f"{response.status} {response.url}")

    def policy_violation(message) -> None:
        # Chromium reports what the Content-Security-Policy blocked (an inline script, style or handler,
        # an eval) only on the console: "Refused to execute inline script …", "Applying inline style violates …".
        if message.type == "error" and "Content Security Policy" in message.text:
            page.js_errors.append(message.text)

    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.on("response", refused_asset)
    page.on("console", policy_violation)
    return context, page


@pytest.fixture
def browser_page(chromium):
    context, page = _page(chromium, **DESKTOP)
    yield page
    errors = page.js_errors
    context.close()
    assert not errors, f"uncaught JavaScript errors or missing assets in the page: {errors}"


@pytest.fixture
def phone_page(chromium):
    context, page = _page(chromium, **PHONE)
    yield page
    errors = page.js_errors
    context.close()
    assert not errors, f"uncaught JavaScript errors or missing assets in the page: {errors}"


@pytest.fixture
def log_in(live_server):
    """log_in(page, user): sign a user in through the real login form (make_user's password by default); a
    user who needs a second factor has an authenticator bound, and its code is typed on the code page."""
    from lianhu.accounts.tests.factories import device_code, make_totp_device
    from lianhu.common.testing import PASSWORD

    def sign_in(page, user, password: str | None = None) -> None:
        device = make_totp_device(user) if user.second_factor_required else None
        page.goto(live_server.url + "/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password or PASSWORD)
        page.locator("form:has(input[name=password]) [type=submit]").click()
        page.wait_for_load_state()
        if device is not None:
            assert "/accounts/second-factor/" in page.url, page.url
            page.fill("input[name=code]", device_code(device))
            page.locator("form:has(input[name=code]) [type=submit]").click()
            page.wait_for_load_state()

    return sign_in


# Draws each character on a canvas and counts distinct bitmaps. Without a CJK font every Chinese
# character falls back to the same empty box (tofu), so they all come out identical.
_DISTINCT_GLYPHS_JS = """(text) => {
    const seen = new Set();
    for (const ch of text) {
        const canvas = document.createElement("canvas");
        canvas.width = 48; canvas.height = 48;
        const ctx = canvas.getContext("2d");
        ctx.font = "32px " + getComputedStyle(document.body).fontFamily;
        ctx.fillText(ch, 4, 36);
        seen.add(canvas.toDataURL());
    }
    return seen.size;
}"""


@pytest.fixture
def assert_renders_chinese():
    """assert_renders_chinese(page): Chinese renders as real, different glyphs in the page's font, not boxes."""

    def check(page, text: str = "登录联户党员") -> None:
        distinct = page.evaluate(_DISTINCT_GLYPHS_JS, text)
        assert distinct == len(set(text)), (
            f"only {distinct} different glyphs for {len(set(text))} Chinese characters: is a CJK font "
            "installed (Debian fonts-wqy-microhei, `make browsers`)?"
        )

    return check

"""Under the Content-Security-Policy (no inline script or style) the pages still work; an idle session ends.

Every browser test fails on a policy violation (conftest.py); these drive what the policy could break:
the API's docs page (Swagger UI), the select that submits on change (static/js/app.js instead of an
onchange attribute), and an htmx request of a session that was idle too long.
"""

import time

import pytest
from playwright.sync_api import expect

from tests.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    return make_world()


def test_the_api_docs_page_works_under_the_policy(live_server, browser_page, log_in, w):
    page = browser_page
    log_in(page, w.secretary_a)
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    page.locator(".opblock-summary", has_text="/api/v1/households").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table")).to_contain_text(w.household_a.code)


def test_choosing_a_branch_filters_the_households_without_a_member_at_once(live_server, browser_page, log_in, w):
    page = browser_page
    log_in(page, w.office_admin)
    page.goto(f"{live_server.url}/members/needs-member/")
    listing = page.locator("#needs-member")
    expect(listing).to_contain_text(w.household_a2.address)
    with page.expect_navigation():
        page.select_option("select[name=branch]", label=w.branch_b.name)
    assert page.url.endswith(f"?branch={w.branch_b.pk}")
    expect(listing).not_to_contain_text(w.household_a2.address)


def test_an_idle_secretary_who_clicks_reveal_is_sent_whole_to_the_login_page_and_back(live_server, browser_page,
                                                                                       log_in, w):
    from django.contrib.sessions.backends.db import SessionStore

    from lianhu.accounts.middleware import IDLE_MESSAGE, LAST_SEEN
    from lianhu.common.testing import PASSWORD

    page = browser_page
    log_in(page, w.secretary_a)
    household_url = f"{live_server.url}/org/households/{w.household_a.pk}/"
    page.goto(household_url)
    session = SessionStore(session_key=next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid"))
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()

    with page.expect_navigation():
        page.locator("#residents button:has-text('查看')").first.click()

    assert "/accounts/login/" in page.url
    assert IDLE_MESSAGE in page.locator(".messages").inner_text()
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=username]", w.secretary_a.username)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()
    assert page.url == household_url

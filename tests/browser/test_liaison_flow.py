"""The foundation's promises, in a real browser: overview, household, scope, exemption, a member's phone."""

import pytest
from playwright.sync_api import expect

from tests.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    return make_world()


def test_office_admin_sees_the_seed_sentence_then_opens_a_household(live_server, browser_page, log_in, w,
                                                                    assert_renders_chinese):
    page = browser_page
    log_in(page, w.office_admin)
    assert page.url.endswith(f"/offices/{w.office.pk}/")
    sentence = page.locator("#seed-sentence").inner_text()
    assert "参与“党员联系户”的村（社区）支部共2个，共有2名党员参与联系服务群众2户" in sentence
    assert "丧失联户能力的党员1名" in sentence
    assert_renders_chinese(page, "党员联系户支部")
    page.click("text=甲村")
    page.click("text=本支部的户")
    page.fill("input[name=q]", "sxm")  # pinyin initials of 单雪梅; htmx swaps the rows as one types
    rows = page.locator("#household-rows")
    expect(rows).not_to_contain_text(w.household_a2.code)
    expect(rows).to_contain_text(w.household_a.code)
    page.click(f"text={w.household_a.code}")
    assert page.locator("h1").inner_text() == w.household_a.address
    assert "360*************71" in page.locator("#residents").inner_text()
    # Reveal the ID number: shown in full, and the office's audit administrator (not the office admin: 三员分立)
    # finds the reveal in the log, the person by his masked name.
    page.locator("#residents button:has-text('查看')").first.click()
    page.locator("#residents .revealed").wait_for()
    assert "360426199101010071" in page.locator("#residents").inner_text()
    assert page.goto(live_server.url + "/audit/").status == 404
    page.locator("form[action$='/logout/'] button").click()
    page.wait_for_load_state()
    log_in(page, w.audit_admin)
    assert page.url.endswith("/audit/")  # his home page
    table = page.locator("#audit-table").inner_text()
    assert "查看敏感信息" in table and "单**" in table and "单雪梅" not in table


def test_secretary_of_another_branch_gets_404_for_the_household(live_server, browser_page, log_in, w):
    page = browser_page
    log_in(page, w.secretary_b)
    response = page.goto(f"{live_server.url}/org/households/{w.household_a.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/org/households/{w.household_b.pk}/")
    assert response.status == 200


def test_marking_a_member_exempt_and_relinking_his_household(live_server, browser_page, log_in, w):
    from lianhu.members.tests.factories import make_member

    make_member(w.branch_a, "周新民")
    page = browser_page
    log_in(page, w.secretary_a)
    page.goto(f"{live_server.url}/members/{w.member_a.pk}/")
    page.click("text=认定不能联户")
    page.select_option("select[name=reason]", "病")
    page.fill("input[name=approved_by]", "王书记")
    page.fill("input[name=post]", "政策宣传岗")
    page.click("button:has-text('确认认定')")
    page.wait_for_url("**/members/needs-member/")
    assert "1 户转入“待安排联系党员”" in page.locator(".messages").inner_text()
    item = page.locator("#needs-member li", has_text=w.household_a.address)
    select = item.locator("select[name=member]")
    select.select_option(label=next(t for t in select.locator("option").all_inner_texts() if t.startswith("周新民")))
    with page.expect_navigation():
        item.locator("button:has-text('安排联系')").click()
    assert "已由周新民联系" in page.locator(".messages").inner_text()
    assert w.household_a.address not in page.locator("#needs-member").inner_text()
    page.goto(f"{live_server.url}/org/households/{w.household_a.pk}/")
    assert "周新民" in page.locator("#active-member").inner_text()
    history = page.locator("#link-history").inner_text()
    assert "李建国" in history and "党员丧失联户能力" in history


def test_member_sees_his_households_on_a_small_phone(live_server, phone_page, log_in, w):
    page = phone_page
    log_in(page, w.member_user)
    assert page.url.endswith("/my/")
    listing = page.locator("#my-households").inner_text()
    assert w.household_a.address in listing and "独居老人" in listing and "从未走访" in listing
    assert w.household_a2.address not in listing
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

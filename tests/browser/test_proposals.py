"""A member can no longer serve: his households are relinked with one proposal, reviewed and confirmed."""

import pytest
from playwright.sync_api import expect

from lianhu.members.tests.factories import make_member
from tests.world import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    from lianhu.org.models import Household

    world = make_world()
    # Along one street (lng/lat near 明港): 李建国's household, then a second one 400 m east.
    Household.objects.filter(pk=world.household_a.pk).update(lng=113.7700, lat=34.4500)
    Household.objects.filter(pk=world.household_a2.pk).update(lng=113.7744, lat=34.4500)
    make_member(world.branch_a, "周新民", grid=world.grid_a, lng=113.7703, lat=34.4503)
    make_member(world.branch_a, "吴远", grid=world.grid_a2, lng=113.7900, lat=34.4600)
    return world


def test_secretary_relinks_an_exempt_members_households_with_one_proposal(live_server, browser_page, log_in, w,
                                                                          assert_renders_chinese):
    page = browser_page
    log_in(page, w.secretary_a)
    page.goto(f"{live_server.url}/members/{w.member_a.pk}/")
    page.click("text=认定不能联户")
    page.select_option("select[name=reason]", "病")
    page.fill("input[name=approved_by]", "王书记")
    page.click("button:has-text('确认认定')")
    page.wait_for_url("**/members/needs-member/")
    needs = page.locator("#needs-member")
    expect(needs).to_contain_text(w.household_a.address)
    expect(needs).to_contain_text(w.household_a2.address)

    with page.expect_navigation():
        page.click("button:has-text('一键生成联系方案')")
    assert "/members/proposals/" in page.url
    assert_renders_chinese(page, "联系方案确认应用")
    summary = page.locator("#proposal-summary").inner_text()
    assert "新建联系 2 户" in summary
    changes = page.locator("#changes")
    expect(changes.locator("tr", has_text=w.household_a.address)).to_contain_text("周新民")
    expect(changes.locator("tr", has_text=w.household_a2.address)).to_contain_text("周新民")
    zhou = page.locator("#member-table tr", has_text="周新民")
    expect(zhou).to_contain_text("0 → 2")

    with page.expect_navigation():
        page.click("button:has-text('确认应用')")
    assert "联系方案已应用：2 户" in page.locator(".messages").inner_text()
    expect(page.locator("#needs-member")).to_contain_text("所有户都已有联系党员")
    for household in (w.household_a, w.household_a2):
        page.goto(f"{live_server.url}/org/households/{household.pk}/")
        assert "周新民" in page.locator("#active-member").inner_text()
    page.goto(f"{live_server.url}/org/households/{w.household_a.pk}/")
    history = page.locator("#link-history").inner_text()
    assert "李建国" in history and "党员丧失联户能力" in history

"""Rosters in and out of Excel through the pages a clerk really clicks: the list's export buttons and import."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.world import make_world
from lianhu.org.tests.workbooks import households_file
from lianhu.org.models import Household

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def w(transactional_db):
    return make_world()


def download(page, button: str) -> list[tuple]:
    """Click one of the list's export buttons; the rows of the sheet it downloads."""
    with page.expect_download() as info:
        page.click(button)
    book = load_workbook(io.BytesIO(info.value.path().read_bytes()))
    return list(book.worksheets[0].iter_rows(min_row=3, values_only=True))


def test_the_list_exports_what_it_shows_in_full_or_masked(live_server, browser_page, log_in, w):
    page = browser_page
    log_in(page, w.office_admin)
    page.goto(live_server.url + "/org/households/")
    page.select_option("select[name=branch]", str(w.branch_a.pk))
    expect(page.locator("#household-rows")).not_to_contain_text(w.household_b.code)

    full = download(page, "button:text-is('导出')")
    assert {r[0] for r in full} == {w.household_a.code, w.household_a2.code}
    assert "360426199101010071" in [r[12] for r in full]
    masked = download(page, "button:text-is('脱敏导出')")
    assert {r[0] for r in masked} == {w.household_a.code, w.household_a2.code}
    assert "360*************71" in [r[12] for r in masked] and "360426199101010071" not in [r[12] for r in masked]


def test_a_clerk_imports_a_sheet_from_the_list_previews_it_and_confirms(live_server, browser_page, log_in, w, tmp_path):
    sheet = tmp_path / "甲村户籍.xlsx"
    sheet.write_bytes(households_file(dict(branch="甲村", grid="甲村一网格", address="甲村一组8号", name="王建国",
                                           relation="户主", id_number="360426196001010011")))
    page = browser_page
    log_in(page, w.secretary_a)
    page.goto(live_server.url + "/org/households/")
    page.click("a:text-is('导入')")
    expect(page.locator("h1")).to_have_text("导入户籍（户与居民）")
    page.set_input_files("input[type=file]", str(sheet))
    page.click("text=上传并检查")

    expect(page.locator("h1")).to_have_text("导入户籍（户与居民）：甲村户籍.xlsx")
    expect(page.locator("main")).to_contain_text("新增")
    assert not Household.objects.filter(address="甲村一组8号").exists()  # nothing written before confirming
    page.click("text=确认导入")
    expect(page.locator("main")).to_contain_text("已导入")
    assert Household.objects.get(address="甲村一组8号").residents.get().name == "王建国"

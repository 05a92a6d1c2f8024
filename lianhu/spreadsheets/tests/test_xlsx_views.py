"""Templates, uploads with a preview, confirmation, problem downloads and exports on the web."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from lianhu.audit.models import AuditEntry
from lianhu.common import sweeps
from lianhu.spreadsheets import jobs
from lianhu.spreadsheets.models import ImportJob, ImportStatus
from lianhu.common.testing import valid_id_number
from lianhu.org.tests.workbooks import households_file
from lianhu.org.models import Household, Resident

pytestmark = pytest.mark.django_db

HEAD = valid_id_number("19600101", serial=11)
DIGITS_ONLY = valid_id_number("19600101", serial=1)  # no X: Excel can hold it as a (15-digit) number


def new_household(**extra) -> dict:
    row = dict(branch="甲村", grid="甲村一网格", address="甲村一组8号", name="王建国", relation="户主", id_number=HEAD,
               phone="13912345678")
    row.update(extra)
    return row


def upload(client, data: bytes, kind: str = "households", name: str = "户籍.xlsx", **params):
    url = reverse("transfer:upload", args=[kind])
    return client.post(url, {"file": SimpleUploadedFile(name, data), **params})


def workbook(response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def job_of(world) -> ImportJob:
    return ImportJob.objects.get(created_by=world.secretary_a)


def test_the_template_offers_only_the_branches_the_user_may_import_into(world, client_for):
    response = client_for(world.secretary_a).get(reverse("transfer:template", args=["households"]))
    book = workbook(response)
    assert [c.value for c in book["选项"]["A"] if c.value] == ["甲村"]
    assert book["户籍"]["A2"].value == "户编号"
    lists = {values[0]: [v for v in values if v] for values in book["选项"].iter_cols(values_only=True)}
    assert lists["甲村一网格"] == ["甲村一网格", "甲村二网格"] and lists["是"] == ["是", "否"]
    assert lists["户主"][:2] == ["户主", "配偶"] and lists["男"] == ["男", "女"]  # every drop-down's list whole


@pytest.mark.parametrize("kind", ["households", "members", "links"])
def test_read_only_roles_get_404_for_templates_and_uploads(world, client_for, kind):
    for persona in (world.member_user, world.advisor_b, world.zone_admin):
        client = client_for(persona)
        assert client.get(reverse("transfer:template", args=[kind])).status_code == 404
        assert client.get(reverse("transfer:upload", args=[kind])).status_code == 404


@pytest.mark.parametrize("kind, persona, label", [
    ("households", "secretary_a", "户籍（户与居民）"), ("members", "office_admin", "党员名册"), ("links", "secretary_a", "党员联系户")])
def test_the_upload_page_names_its_sheet_and_links_its_template(world, client_for, kind, persona, label):
    response = client_for(getattr(world, persona)).get(reverse("transfer:upload", args=[kind]))
    page = response.content.decode()
    assert response.status_code == 200 and f"<h1>导入{label}</h1>" in page
    assert reverse("transfer:template", args=[kind]) in page


def test_an_unknown_kind_is_404(world, client_for):
    assert client_for(world.office_admin).get(reverse("transfer:upload", args=["visits"])).status_code == 404


def test_another_offices_admin_cannot_upload_into_this_office(world, client_for):
    client = client_for(world.other_office_admin)
    response = upload(client, households_file(new_household()), office=world.office.pk)
    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_an_upload_is_previewed_and_written_only_when_confirmed(world, client_for):
    client = client_for(world.secretary_a)
    response = upload(client, households_file(new_household()))
    job = job_of(world)
    assert response.status_code == 302 and response["Location"] == reverse("transfer:job_detail", args=[job.pk])
    assert job.status == ImportStatus.PREVIEWED and job.counts["居民"]["created"] == 1
    assert HEAD.encode() not in bytes(job.content)  # the upload is kept sealed
    assert not Household.objects.filter(address="甲村一组8号").exists()
    page = client.get(response["Location"]).content.decode()
    assert "确认导入" in page and "新增" in page and "户籍（户与居民）" in page

    confirmed = client.post(reverse("transfer:job_confirm", args=[job.pk]), follow=True)
    client.post(reverse("transfer:job_confirm", args=[job.pk]))  # a second click writes nothing more

    assert "已导入" in confirmed.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED and job.content == b""  # applied: the upload is dropped
    assert Resident.objects.get(name="王建国").reveal_id_number() == HEAD
    entry = AuditEntry.objects.get(detail__import="households")
    assert entry.actor == world.secretary_a and entry.object_id == str(job.pk) and entry.action == "import"
    audit_page = client_for(world.audit_admin).get(reverse("audit:audit_list")).content.decode()
    assert "<td>导入</td>" in audit_page
    assert "户籍（户籍.xlsx）：户 新增 1；居民 新增 1" in audit_page


def test_the_preview_lists_the_rows_a_file_updates_and_the_page_says_so_again_once_applied(world, client_for):
    client = client_for(world.secretary_a)
    upload(client, households_file(new_household()))
    client.post(reverse("transfer:job_confirm", args=[job_of(world).pk]))
    upload(client, households_file(new_household(phone="13800001111", care_tags="独居老人")))
    job = ImportJob.objects.filter(created_by=world.secretary_a).first()

    page = client.get(reverse("transfer:job_detail", args=[job.pk])).content.decode()
    assert "将更新的行：1 行" in page and "<td>居民 王建国</td><td>联系电话、关爱标签</td>" in page
    assert "13800001111" not in page
    client.post(reverse("transfer:job_confirm", args=[job.pk]))
    assert "已更新的行：1 行" in client.get(reverse("transfer:job_detail", args=[job.pk])).content.decode()


@pytest.mark.parametrize("inline_rows, status", [(2000, ImportStatus.VALIDATING), (0, ImportStatus.QUEUED)])
def test_only_a_file_too_big_to_check_at_once_is_queued_for_the_worker(world, monkeypatch, inline_rows, status):
    monkeypatch.setattr(jobs, "INLINE_ROWS", inline_rows)
    job = jobs.job_create(kind="households", office=world.office, user=world.secretary_a, filename="户籍.xlsx",
                          data=households_file(new_household()))
    assert job.status == status and sweeps.wakers["import_jobs"]() == (status == ImportStatus.QUEUED)


def test_a_file_with_problems_lists_them_offers_the_annotated_sheet_and_cannot_be_confirmed(world, client_for):
    client = client_for(world.secretary_a)
    upload(client, households_file(new_household(id_number=int(DIGITS_ONLY))))
    job = job_of(world)
    page = client.get(reverse("transfer:job_detail", args=[job.pk])).content.decode()
    assert "错误 1 个" in page and "存成了数字" in page and "确认导入" not in page

    sheet = workbook(client.get(reverse("transfer:job_problems", args=[job.pk]))).active
    assert sheet.cell(2, 20).value == "错误说明" and "存成了数字" in sheet.cell(3, 20).value

    client.post(reverse("transfer:job_confirm", args=[job.pk]))
    assert not Household.objects.filter(address="甲村一组8号").exists()


def test_a_file_that_is_no_spreadsheet_says_so_and_offers_no_empty_problem_sheet(world, client_for):
    client = client_for(world.secretary_a)
    upload(client, "甲村一组王建国，电话13912345678".encode(), name="户籍.xlsx")
    job = job_of(world)
    page = client.get(reverse("transfer:job_detail", args=[job.pk])).content.decode()
    assert "内容却不是 Excel 表格" in page and "下载问题清单" not in page
    assert client.get(reverse("transfer:job_problems", args=[job.pk])).status_code == 404


JOB_URLS = ["transfer:job_detail", "transfer:job_progress", "transfer:job_problems"]


@pytest.mark.parametrize("persona", ["secretary_b", "other_office_admin", "office_admin", "member_user"])
def test_someone_elses_import_job_is_404(world, client, persona):
    client.force_login(world.secretary_a)
    upload(client, households_file(new_household(id_number=int(DIGITS_ONLY))))
    job = job_of(world)
    client.force_login(getattr(world, persona))
    for name in JOB_URLS:
        assert client.get(reverse(name, args=[job.pk])).status_code == 404, name
    assert client.post(reverse("transfer:job_confirm", args=[job.pk])).status_code == 404


def test_a_job_is_404_once_its_owner_lost_the_right_to_write_there(world, client_for):
    client = client_for(world.secretary_a)
    upload(client, households_file(new_household()))
    world.secretary_a.memberships.update(is_active=False)
    world.secretary_a.__dict__.pop("active_memberships", None)
    assert client.get(reverse("transfer:job_detail", args=[job_of(world).pk])).status_code == 404


def test_a_big_file_is_checked_and_written_by_the_worker_with_progress_on_the_page(world, client_for, monkeypatch):
    monkeypatch.setattr(jobs, "INLINE_ROWS", 0)
    client = client_for(world.secretary_a)
    upload(client, households_file(new_household()))
    job = job_of(world)
    assert job.status == ImportStatus.QUEUED
    progress = client.get(reverse("transfer:job_progress", args=[job.pk]))
    assert 'hx-trigger="every 1s"' in progress.content.decode() and "HX-Refresh" not in progress

    waiting = sweeps.wakers["import_jobs"]  # the worker asks it every second between passes
    assert waiting()
    assert jobs.run_import_jobs().startswith("checked 1, wrote 0")
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.progress == 100 and not waiting()
    assert client.get(reverse("transfer:job_progress", args=[job.pk]))["HX-Refresh"] == "true"

    client.post(reverse("transfer:job_confirm", args=[job.pk]), REMOTE_ADDR="10.1.2.3")
    job.refresh_from_db()
    assert job.status == ImportStatus.CONFIRMED and not Household.objects.filter(address="甲村一组8号").exists()
    assert waiting()
    assert jobs.run_import_jobs().startswith("checked 0, wrote 1")
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED and Household.objects.filter(address="甲村一组8号").exists()
    entry = AuditEntry.objects.get(action="import")  # written by the worker, in the name of who confirmed
    assert (entry.actor, entry.ip) == (world.secretary_a, "10.1.2.3")


def test_the_worker_fails_a_job_whose_worker_died_and_drops_old_uploads(world, client_for):
    import datetime as dt

    from django.utils import timezone

    client = client_for(world.secretary_a)
    upload(client, households_file(new_household()))
    job = job_of(world)
    long_ago = timezone.now() - dt.timedelta(days=8)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.APPLYING, updated_at=long_ago)
    assert "failed 1 stale" in jobs.run_import_jobs()
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "没有写入任何数据" in job.message
    ImportJob.objects.filter(pk=job.pk).update(updated_at=long_ago)
    assert "dropped 1 old uploads" in jobs.run_import_jobs()


# ---------------------------------------------------------------------------------------------
# Exports


def exported_codes(response) -> set[str]:
    sheet = workbook(response).worksheets[0]
    return {row[0] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}


def test_the_export_follows_the_lists_filters_and_scope(world, client_for):
    url = reverse("transfer:export", args=["households"])
    admin = client_for(world.office_admin)
    # The list pages post their filter form to the export (an ID number searched for stays out of URLs).
    assert exported_codes(admin.post(url)) == {world.household_a.code, world.household_a2.code, world.household_b.code}
    assert exported_codes(admin.post(url, {"linked": "no"})) == {world.household_a2.code}
    assert exported_codes(admin.post(url, {"q": "单雪梅"})) == {world.household_a.code}
    assert exported_codes(admin.post(url, {"branch": world.branch_b.pk})) == {world.household_b.code}
    assert exported_codes(admin.get(url, {"branch": world.branch_b.pk})) == {world.household_b.code}  # a link works too
    secretary_b = client_for(world.secretary_b)
    assert exported_codes(secretary_b.post(url)) == {world.household_b.code}
    assert secretary_b.post(url, {"branch": world.branch_a.pk}).status_code == 404  # not his branch: no such list
    assert secretary_b.post(url, {"grid": world.grid_a.pk}).status_code == 404
    entries = list(AuditEntry.objects.filter(action="export").order_by("id"))
    assert len(entries) == 6  # the refused ones are not exports
    assert [e.detail["filters"] for e in entries][1:4] == [{"linked": "未联系"}, {"q": "单雪梅"}, {"branch": "乙社区"}]
    assert entries[3].summary == "户籍 1 行，完整（含身份证号、电话）；筛选 支部：乙社区"


def test_an_exports_title_says_which_rows_it_holds(world, client_for):
    url = reverse("transfer:export", args=["households"])
    title = workbook(client_for(world.office_admin).post(url, {"linked": "no"})).worksheets[0]["A1"].value
    assert title.startswith(f"{world.office.name}户籍（户与居民）（联系情况：未联系；导出于 ")
    own = workbook(client_for(world.secretary_b).post(url)).worksheets[0]["A1"].value
    assert own.startswith(f"{world.office.name}户籍（户与居民）（乙社区；导出于 ")  # a secretary's one branch
    searched = workbook(client_for(world.office_admin).post(url, {"q": "单雪梅"})).worksheets[0]["A1"].value
    assert "搜索：单雪梅；" in searched
    shared = workbook(client_for(world.office_admin).post(url, {"q": "单雪梅", "masked": "1"})).worksheets[0]
    assert "单雪梅" not in shared["A1"].value and "搜索：（按关键词筛选）" in shared["A1"].value
    assert "单雪梅" not in [c.value for row in shared.iter_rows() for c in row]  # the name masked in the rows too


def test_an_export_searched_by_id_number_is_audited_without_the_number(world, client_for):
    response = client_for(world.secretary_a).post(reverse("transfer:export", args=["households"]),
                                                   {"q": "360426199101010071"})
    assert exported_codes(response) == {world.household_a.code}
    (entry,) = AuditEntry.objects.filter(action="export")
    assert entry.detail["filters"] == {"q": "360*************71"}


@pytest.mark.parametrize("searched, kept", [
    ("36042619910101007", "360************07"),  # an ID number without its check digit, which can be worked out
    ("13912345678", "139****5678"), ("王 1234567", "王12***67"), ("单雪梅", "单雪梅")])
def test_the_export_log_keeps_no_long_run_of_digits_searched_for(world, client_for, searched, kept):
    client_for(world.office_admin).post(reverse("transfer:export", args=["households"]), {"q": searched})
    (entry,) = AuditEntry.objects.filter(action="export")
    assert entry.detail["filters"] == {"q": kept} and kept in entry.summary


def test_an_old_export_entry_with_a_number_in_clear_is_shown_masked(world):
    from lianhu.audit.services import audit_log

    audit_log(actor=world.office_admin, action="export", detail={
        "export": "households", "rows": 1, "masked": False, "filters": {"q": "360426199101010071"}})
    assert AuditEntry.objects.get().summary.endswith("筛选 搜索：360*************71")


def test_an_import_of_a_file_named_after_someone_logs_the_name_without_his_numbers(world, client_for):
    client = client_for(world.secretary_a)
    upload(client, households_file(new_household()), name="王建国360426199101010071电话13912345678.xlsx")
    job = job_of(world)
    client.post(reverse("transfer:job_confirm", args=[job.pk]))
    entry = AuditEntry.objects.get(action="import")
    kept = "王建国360*************71电话139****5678.xlsx"
    assert entry.detail["file"] == kept and entry.object_repr.endswith(kept) and kept in entry.summary
    assert "360426199101010071" not in client_for(world.audit_admin).get(reverse("audit:audit_list")).content.decode()


def test_an_old_import_entry_with_a_number_in_its_file_name_is_shown_masked(world, client_for):
    entry = AuditEntry.objects.create(  # as entries were kept before: str(job) and the file's name in clear
        actor=world.office_admin, actor_label=str(world.office_admin), action="import", office=world.office,
        object_repr="户籍 13912345678.xlsx",
        detail={"import": "households", "file": "13912345678.xlsx", "rows": 1, "counts": {}})
    assert entry.summary == "户籍（139****5678.xlsx）：没有改动" and entry.shown_object == "户籍 139****5678.xlsx"
    page = client_for(world.audit_admin).get(reverse("audit:audit_list")).content.decode()
    assert "13912345678" not in page and "户籍 139****5678.xlsx" in page


def test_an_export_is_full_for_those_who_may_reveal_masked_otherwise_and_always_audited(world, client_for):
    url = reverse("transfer:export", args=["households"])
    full = workbook(client_for(world.secretary_a).get(url)).worksheets[0]
    assert "360426199101010071" in [c.value for c in full["M"]]
    assert "低保" in [c.value for c in full["P"]]
    shared = workbook(client_for(world.secretary_a).post(url, {"masked": "1"})).worksheets[0]
    assert "360*************71" in [c.value for c in shared["M"]] and "***" in [c.value for c in shared["P"]]
    member = workbook(client_for(world.member_user).get(url)).worksheets[0]
    assert "360*************71" in [c.value for c in member["M"]]
    entries = AuditEntry.objects.filter(action="export").order_by("id")
    assert [(e.actor.username, e.detail["masked"], e.detail["rows"]) for e in entries] == [
        ("secretary_a", False, 2), ("secretary_a", True, 2), ("member_a", True, 1)]


def test_members_and_links_exports_use_the_member_lists_filters(world, client_for):
    client = client_for(world.office_admin)
    names = [r[2] for r in workbook(client.post(reverse("transfer:export", args=["members"]), {"status": "exempt"}))
             .worksheets[0].iter_rows(min_row=3, values_only=True)]
    assert names == ["张福来"]
    links = workbook(client.post(reverse("transfer:export", args=["links"]), {"branch": world.branch_b.pk})).worksheets[0]
    assert [r[0] for r in links.iter_rows(min_row=3, values_only=True)] == [world.household_b.code]


def test_export_needs_login(client):
    response = client.get(reverse("transfer:export", args=["households"]))
    assert response.status_code == 302


def test_the_lists_offer_import_and_export(world, client_for):
    client = client_for(world.secretary_a)
    households = client.get(reverse("org:household_list")).content.decode()
    assert reverse("transfer:upload", args=["households"]) in households
    assert reverse("transfer:export", args=["households"]) in households
    member_list = client.get(reverse("members:member_list")).content.decode()
    for kind in ("members", "links"):
        assert reverse("transfer:upload", args=[kind]) in member_list
        assert reverse("transfer:export", args=[kind]) in member_list
    advisor = client_for(world.advisor_b).get(reverse("org:household_list")).content.decode()
    assert reverse("transfer:upload", args=["households"]) not in advisor


def test_a_mistyped_id_number_is_kept_masked_in_the_jobs_problems_and_page(world, client_for):
    wrong = HEAD[:17] + ("1" if HEAD[17] != "1" else "2")  # one check digit off: 17 real digits
    client = client_for(world.secretary_a)
    response = upload(client, households_file(new_household(id_number=wrong)))
    job = job_of(world)
    stored = str(job.problems)
    assert "校验位不正确" in stored
    assert HEAD[:17] not in stored and HEAD[3:14] not in stored
    page = client.get(response["Location"]).content.decode()
    assert "校验位不正确" in page and HEAD[:17] not in page


def test_a_masked_export_does_not_tell_who_carries_a_sensitive_tag(world, client_for):
    # Security review, finding 9: *** only where a tag was told who is 低保 or 残疾.
    shared = workbook(client_for(world.office_admin).post(reverse("transfer:export", args=["households"]),
                                                          {"masked": "1"})).worksheets[0]
    names = [c.value for c in shared["I"]][2:]
    tags = [c.value for c in shared["P"]][2:]
    rows = [(n, t) for n, t in zip(names, tags) if n]
    assert len(rows) >= 2 and {t for _n, t in rows} == {"***"}  # 单雪梅 (低保) and 曾国强 (none) alike

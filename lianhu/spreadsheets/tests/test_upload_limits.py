"""An uploaded sheet cannot take the server down: refused by its size before anything parses it, read
within limits of memory and time, and read in the encodings villages save CSV in."""

import io
import re
import resource
import struct
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from lianhu.common import xlsx
from lianhu.common.xlsx import reading
from lianhu.org.models import Resident
from lianhu.org.tests.workbooks import HOUSEHOLD_HEADER, household_row, households_file
from lianhu.spreadsheets import jobs
from lianhu.spreadsheets.models import ImportJob, ImportStatus
from lianhu.spreadsheets.tests.test_xlsx_views import new_household, upload

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"


def edited(data: bytes, edit) -> bytes:
    """The workbook again, its data sheet's XML passed through edit(xml)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part in source.infolist():
            content = source.read(part)
            z.writestr(part.filename, edit(content) if part.filename == SHEET else content)
    return out.getvalue()


def declaring(ref: str) -> bytes:
    """A one-row households file whose sheet declares the range `ref`."""
    return edited(households_file(new_household()),
                  lambda xml: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml))


def repeated_rows(count: int, text: str = "王建国") -> bytes:
    """A zip bomb: one row repeated `count` times under a header, the range still saying 3 rows."""
    row = f'<row><c t="inlineStr"><is><t>{text}</t></is></c></row>'.encode()
    return edited(households_file(new_household()),
                  lambda xml: xml.replace(b"</sheetData>", row * count + b"</sheetData>"))


def understated(data: bytes, part: str, size: int) -> bytes:
    """The zip with the unpacked size of `part` given as `size` in its local header and its directory."""
    data = bytearray(data)
    name = part.encode()
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30:local + 30 + name_length] == name:
            struct.pack_into("<I", data, local + 22, size)
        local = data.find(b"PK\x03\x04", local + 4)
    entry = data.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length] == name:
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


def far_apart_cells() -> bytes:
    """1.6 KB: a cell in A1 and one in XFD1048576. calamine holds a sheet from its first cell to its
    last, and asks for 550 GB; the allocation fails and aborts the process."""
    return edited(households_file(new_household()), lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))


@pytest.fixture
def unparsed(monkeypatch):
    """Fails the test if anything parses a workbook (calamine) or a CSV."""

    class Refused:
        @staticmethod
        def from_filelike(*args, **kwargs):
            raise AssertionError("the file was parsed")

    monkeypatch.setattr(reading, "CalamineWorkbook", Refused)
    monkeypatch.setattr(reading, "_read_csv", Refused.from_filelike)


def refused(response, message: str) -> None:
    assert response.status_code == 200  # the form again, the message on its file field
    assert message in response.context["form"].errors["file"][0]
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()  # nothing stored


# ---------------------------------------------------------------------------------------------
# Refused by size, unparsed


@pytest.mark.parametrize("max_rows, data, message", [
    (300_000, declaring("A1:K400000"), "文件的工作表共有 400,000 行，超过上限 300,000 行：请拆分成几个文件分别导入"),
    (300_000, repeated_rows(310_000), "共有 310,003 行，超过上限 300,000 行"),  # the range says 3: rows are counted
    (1000, repeated_rows(200, "王" * 10_000), "文件解压后有 5.7 MB，超过上限 3 MB"),  # 2 KB a row allowed, and 1 MB
])
def test_a_zip_bomb_is_refused_at_upload_without_being_parsed(world, client_for, settings, unparsed, max_rows, data,
                                                              message):
    settings.LIANHU_UPLOAD_MAX_ROWS = max_rows
    assert len(data) < 1024 * 1024
    refused(upload(client_for(world.secretary_a), data), message)


def test_a_zip_that_understates_what_its_sheet_unpacks_to_is_measured_by_what_it_holds(world, client_for, unparsed):
    bomb = understated(repeated_rows(310_000), SHEET, 1000)
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        assert z.getinfo(SHEET).file_size == 1000
    refused(upload(client_for(world.secretary_a), bomb), "共有 310,003 行，超过上限 300,000 行")


def test_the_limits_come_from_the_settings(world, client_for, settings, unparsed):
    client = client_for(world.secretary_a)
    settings.LIANHU_UPLOAD_MAX_BYTES = 2048
    refused(upload(client, households_file(new_household())), "超过上限 2 KB")
    settings.LIANHU_UPLOAD_MAX_BYTES = 20 * 1024 * 1024
    settings.LIANHU_UPLOAD_MAX_ROWS = 2  # a title, the header and one row are three
    refused(upload(client, households_file(new_household())), "共有 3 行，超过上限 2 行")
    refused(upload(client, "\n".join(["姓名,身份证号"] * 3).encode(), name="户籍.csv"), "共有 3 行，超过上限 2 行")
    page = client.get(reverse("transfer:upload", args=["households"])).content.decode()
    assert "文件不超过 20 MB、2 行" in page


def test_another_offices_admin_gets_404_before_anything_is_measured(world, client_for, monkeypatch):
    monkeypatch.setattr(jobs, "measure", None)  # calling it would fail
    response = upload(client_for(world.other_office_admin), declaring("A1:K400000"), office=world.office.pk)
    assert response.status_code == 404 and not ImportJob.objects.exists()


def test_the_command_line_importer_refuses_an_over_limit_file_unparsed(world, tmp_path, settings, unparsed):
    settings.LIANHU_UPLOAD_MAX_ROWS = 300_000
    path = tmp_path / "户籍.xlsx"
    path.write_bytes(declaring("A1:K400000"))
    with pytest.raises(CommandError, match="共有 400,000 行，超过上限 300,000 行"):
        call_command("import_xlsx", "households", str(path), "--office", world.office.name, "--dry-run",
                     stdout=io.StringIO(), stderr=io.StringIO())


# ---------------------------------------------------------------------------------------------
# Read within limits: one file fails, the process goes on


def test_a_small_file_that_would_abort_the_reader_fails_its_job_and_not_the_server(world, client_for):
    response = upload(client_for(world.secretary_a), far_apart_cells())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.status == ImportStatus.FAILED
    assert job.message.startswith(f"读取这个文件需要的内存超过上限（{jobs.INLINE_MEMORY_MB} MB），没有导入")


@pytest.fixture
def queued(world, monkeypatch):
    """Uploads queued for the worker, whatever their size."""
    monkeypatch.setattr(jobs, "INLINE_ROWS", 0)

    def queue(data: bytes, filename: str = "户籍.xlsx") -> ImportJob:
        return jobs.job_create(kind="households", office=world.office, user=world.secretary_a, filename=filename,
                               data=data)

    return queue


def test_a_job_that_runs_out_of_memory_fails_and_the_worker_goes_on_to_the_next(queued, settings, monkeypatch):
    settings.LIANHU_WORKER_MEMORY_MB = 64
    checked = xlsx.import_file

    def import_file(sheet, data, filename, **kwargs):
        if filename == "大表.xlsx":
            bytearray(512 * 1024 * 1024)  # rows that take more memory than the worker may use
        return checked(sheet, data, filename, **kwargs)

    monkeypatch.setattr(xlsx, "import_file", import_file)
    limit = resource.getrlimit(resource.RLIMIT_AS)
    big, small = queued(households_file(new_household()), "大表.xlsx"), queued(households_file(new_household()))

    assert jobs.run_import_jobs().startswith("checked 2")
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.status == ImportStatus.FAILED
    assert big.message == "检查这个文件需要的内存超过上限（64 MB），没有导入：请拆分成几个文件分别导入"
    assert small.status == ImportStatus.PREVIEWED and small.counts["居民"]["created"] == 1
    assert resource.getrlimit(resource.RLIMIT_AS) == limit  # the worker's own limit is back


def test_a_file_that_would_abort_the_reader_fails_its_job_and_the_worker_goes_on(queued, settings):
    bomb, good = queued(far_apart_cells()), queued(households_file(new_household()))
    assert jobs.run_import_jobs().startswith("checked 2")
    bomb.refresh_from_db()
    good.refresh_from_db()
    assert bomb.status == ImportStatus.FAILED and f"内存超过上限（{settings.LIANHU_WORKER_MEMORY_MB} MB）" in bomb.message
    assert good.status == ImportStatus.PREVIEWED


# ---------------------------------------------------------------------------------------------
# Encodings


def households_csv(encoding: str, separator: str = "\t") -> bytes:
    """A households CSV as Excel saves "Unicode text" (tab-separated UTF-16) or as a village types it."""
    lines = [HOUSEHOLD_HEADER, [str(v) for v in household_row(**new_household())]]
    return "\r\n".join(separator.join(line) for line in lines).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])  # with a BOM, then without one
def test_a_utf16_csv_with_or_without_a_bom_imports(world, client_for, encoding):
    client = client_for(world.secretary_a)
    upload(client, households_csv(encoding), name="户籍.csv")
    job = ImportJob.objects.get()
    assert job.status == ImportStatus.PREVIEWED and not job.problems, job.problems
    client.post(reverse("transfer:job_confirm", args=[job.pk]))
    assert Resident.objects.get(name="王建国").household.address == "甲村一组8号"


@pytest.mark.parametrize("encoding, text", [
    ("big5", "戶編號,支部,網格,住址,姓名,與戶主關係,身份證號\r\n,甲村,甲村一網格,甲村一組8號,王建國,戶主,360426196001010011\r\n"),
    ("shift_jis", "世帯番号,支部,住所,氏名,続柄\r\n,甲村,甲村一組8号,山田太郎,世帯主\r\n"),
])
def test_a_big5_or_shift_jis_csv_is_refused_as_an_encoding_problem(world, client_for, encoding, text):
    upload(client_for(world.secretary_a), text.encode(encoding), name="户籍.csv")
    job = ImportJob.objects.get()
    assert [p["message"] for p in job.problems] == ["文件编码无法识别：请在 Excel/WPS 中另存为 UTF-8 CSV 或 xlsx"]

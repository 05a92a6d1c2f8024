"""Import jobs: an upload is checked (preview), then written only when someone confirms it.

An upload is measured before anything parses it (`xlsx.measure`: bytes, rows, unpacked size) and
refused beyond the settings' limits. Small files are checked and written inside the request. Bigger
ones are queued and run by the `import_jobs` sweep of the background worker (`manage.py worker`),
which reports progress on the job row for the page to poll. Either way a file is first read in a
child process within limits of memory and time (`bounded.trial`), and the worker runs each job
within a memory limit (`bounded.memory_limit`), so one file can fail but not the process. Checking
runs outside any transaction (so its progress is visible); writing runs in one transaction that
checks everything again first (see xlsx.import_file).
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from lianhu.audit.services import audit_log
from lianhu.common import bounded, xlsx
from lianhu.common.masking import mask_digit_runs
from lianhu.common.sheets import sheet_class
from lianhu.common.sweeps import sweep

from .models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

INLINE_ROWS = 2000  # up to this many rows a file is checked and written while the user waits,
INLINE_BYTES = 8 * 1024 * 1024  # if it unpacks to no more than this (2,000 rows of an export: 1.4 MB)
INLINE_MEMORY_MB = 256  # such a file's trial read, in the request, gets this much memory
INLINE_SECONDS = 10  # and CPU seconds (it needs a few hundredths of a second)
READ_SECONDS = 120  # the worker's trial read (a 300,000-row sheet takes about 5 s)
PROBLEM_LIMIT = 20000  # problems kept on the job; a file with more is mostly the wrong file
STALE_AFTER = dt.timedelta(minutes=30)  # a running job untouched this long lost its worker
KEEP_UPLOADS = dt.timedelta(days=7)  # then an unfinished upload (holding personal data) is dropped


def sheet_for(job: ImportJob, user=None):
    return sheet_class(job.kind)(office=job.office, user=user if user is not None else job.created_by)


def measure(data: bytes, filename: str) -> xlsx.FileSize:
    """The file's size and rows, without parsing it; xlsx.FileTooBig beyond the settings' limits."""
    return xlsx.measure(data, filename, max_bytes=settings.LIANHU_UPLOAD_MAX_BYTES,
                        max_rows=settings.LIANHU_UPLOAD_MAX_ROWS)


def _inline(size: xlsx.FileSize) -> bool:
    """Whether a file is small enough, as measured, to be checked and written while the user waits."""
    return size.rows is not None and size.rows <= INLINE_ROWS and size.unpacked <= INLINE_BYTES


def job_create(*, kind: str, office, user, filename: str, data: bytes) -> ImportJob:
    """Store the upload sealed once measured within the limits (xlsx.FileTooBig otherwise: nothing is stored).

    Nothing parses it here: a small file is left VALIDATING for job_validate(inline=True) to check at
    once, any other is QUEUED for the worker. An .xls states no size short of parsing it, so it is
    always the worker's."""
    size = measure(data, filename)
    # A file checked inline is never queued: the worker, woken every second, must not take it too.
    status = ImportStatus.VALIDATING if _inline(size) else ImportStatus.QUEUED
    # A file is often named after its subject (王建国410…xlsx): the name is kept with its numbers masked.
    job = ImportJob(kind=kind, office=office, created_by=user, filename=mask_digit_runs(filename)[:200],
                    rows=size.rows or 0, status=status)
    job.set_content(data)
    job.save()
    return job


def _reporter(job: ImportJob):
    """Progress written to the job row at most twice a second, and only when others can see it."""
    last = [0.0]

    def report(done: int, total: int, phase: str) -> None:
        now = time.monotonic()
        if connection.in_atomic_block or (now - last[0] < 0.5 and done < total):
            return
        last[0] = now
        percent = int(done * 100 / total) if total else 100
        ImportJob.objects.filter(pk=job.pk).update(progress=percent, phase=phase, updated_at=timezone.now())

    return report


def _record(job: ImportJob, outcome) -> None:
    job.counts = outcome.counts
    job.notes = outcome.notes
    job.ignored = outcome.ignored
    job.sheet = outcome.sheet or job.sheet
    job.rows = outcome.rows or job.rows
    job.problems = [p.as_dict() for p in outcome.problems[:PROBLEM_LIMIT]]
    job.updates = [list(u) for u in outcome.updates]
    job.error_count = len(outcome.errors)
    job.warning_count = len(outcome.problems) - job.error_count


def _trial_read(job: ImportJob, data: bytes, *, megabytes: int, seconds: int) -> str:
    """"" when reading the file fits within the limits, else why the job fails.

    calamine aborts the process whose allocation fails, so the file is read first in a child."""
    cls = sheet_class(job.kind)
    ended = bounded.trial(lambda: xlsx.read_table(data, job.filename, cls.columns, cls.kind),
                          megabytes=megabytes, seconds=seconds)
    if ended == bounded.DONE:
        return ""
    logger.warning("import job %s: reading the file ended with %s", job.pk, ended)
    if ended == bounded.MEMORY:
        return (f"读取这个文件需要的内存超过上限（{megabytes} MB），没有导入：表格中可能有大量空行、空列或格式，"
                "请只把数据复制到新表格后重新上传，或拆分成几个文件")
    if ended == bounded.TIME:
        return (f"读取这个文件的时间超过上限（{seconds} 秒），没有导入：表格中可能有大量空行、空列或格式，"
                "请只把数据复制到新表格后重新上传，或拆分成几个文件")
    return "文件无法读取（读取程序异常退出）：请用 Excel 或 WPS 打开，另存为 .xlsx 后重新上传"


def job_validate(job: ImportJob, *, inline: bool = False) -> ImportJob:
    """Check the file and say what it would change; writes nothing but the job row.

    The file is read first in a child within limits of memory and time: the request's for a small
    file checked inline, the worker's otherwise."""
    job.status, job.progress, job.phase = ImportStatus.VALIDATING, 0, "检查"
    job.save(update_fields=["status", "progress", "phase", "updated_at"])
    megabytes = INLINE_MEMORY_MB if inline else settings.LIANHU_WORKER_MEMORY_MB
    outcome = None
    try:
        data = job.read_content()
        refused = _trial_read(job, data, megabytes=megabytes, seconds=INLINE_SECONDS if inline else READ_SECONDS)
        if refused:
            return _fail(job, refused)
        outcome = xlsx.import_file(sheet_for(job), data, job.filename, apply=False, progress=_reporter(job))
    except MemoryError:
        pass  # failed below, once the frames that hold the file's rows are gone with the exception
    except Exception as e:  # a job must end in a state the page can show, whatever went wrong
        logger.exception("import job %s failed while checking", job.pk)
        return _fail(job, f"检查时出错（{e.__class__.__name__}），请联系管理员")
    if outcome is None:
        logger.warning("import job %s ran out of memory while checking", job.pk)
        return _fail(job, f"检查这个文件需要的内存超过上限（{megabytes} MB），没有导入：请拆分成几个文件分别导入")
    _record(job, outcome)
    job.status, job.progress, job.phase = ImportStatus.PREVIEWED, 100, ""
    if not job.changes and not job.error_count:
        job.message = "文件与系统中的数据完全一致，无需导入"
    job.save()
    return job


def job_confirm(*, job: ImportJob, user, ip: str | None = None) -> ImportJob:
    """Write a checked job now (small files) or queue it for the worker (big ones)."""
    if not job.can_confirm:
        return job
    if job.rows <= INLINE_ROWS and _measured_inline(job):
        if not _claim(job.pk, ImportStatus.PREVIEWED, ImportStatus.APPLYING):  # a second click, or another tab
            job.refresh_from_db()
            return job
        return job_apply(job, ip=ip, user=user)
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.CONFIRMED, progress=0, phase="", updated_at=timezone.now(),
        confirmed_by=user if user is not None and user.is_authenticated else None, confirmed_ip=ip)
    job.refresh_from_db()
    return job


def _measured_inline(job: ImportJob) -> bool:
    """Whether the job's file was small enough to be checked inline: its rows alone do not say (a file
    of 100 rows under 200,000 blank ones was checked by the worker, and must be written there too)."""
    try:
        return _inline(measure(job.read_content(), job.filename))
    except xlsx.FileTooBig:  # the limits were lowered since it was checked
        return False


def job_apply(job: ImportJob, ip: str | None = None, user=None) -> ImportJob:
    """Check again and write, in one transaction; audited with one summary entry, as done by the user
    who confirmed (by default the one who confirmed a queued job, or else the uploader)."""
    actor = user if user is not None else (job.confirmed_by or job.created_by)
    ip = ip if ip is not None else job.confirmed_ip
    job.status, job.progress, job.phase = ImportStatus.APPLYING, 0, "写入"
    job.save(update_fields=["status", "progress", "phase", "updated_at"])
    outcome = None
    try:  # the file was read within the limits when it was checked
        outcome = xlsx.import_file(sheet_for(job), job.read_content(), job.filename, apply=True, progress=_reporter(job),
                                   audit=lambda o: audit_import(o, office=job.office, actor=actor, ip=ip, job=job))
    except MemoryError:
        pass  # failed below, once the frames that hold the file's rows are gone with the exception
    except Exception as e:
        logger.exception("import job %s failed while writing", job.pk)
        return _fail(job, f"写入时出错（{e.__class__.__name__}），没有写入任何数据；请重新上传或联系管理员")
    if outcome is None:
        logger.warning("import job %s ran out of memory while writing", job.pk)
        return _fail(job, f"写入时需要的内存超过上限（{settings.LIANHU_WORKER_MEMORY_MB} MB），没有写入任何数据："
                          "请拆分成几个文件分别导入")
    _record(job, outcome)
    job.progress, job.phase = 100, ""
    if outcome.applied:
        job.status, job.finished_at = ImportStatus.APPLIED, timezone.now()
        job.message = "已导入：" + "；".join(outcome.summary_lines())
        job.content = b""  # applied: the upload is no longer needed, and it holds personal data
    else:
        job.status = ImportStatus.PREVIEWED
        job.message = "数据在预览之后有了变化，重新检查发现问题，没有写入任何数据；请处理后重新上传"
    job.save()
    return job


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status, job.message, job.finished_at = ImportStatus.FAILED, message, timezone.now()
    job.save(update_fields=["status", "message", "finished_at", "updated_at"])
    return job


def audit_import(outcome, *, office, actor, ip: str | None = None, job: ImportJob | None = None,
                 source: str = "web") -> None:
    """One summary entry per import, written in the import's own transaction."""
    audit_log(actor=actor, action="import", obj=job, ip=ip, office_id=office.pk,
              detail={"import": outcome.kind, "file": mask_digit_runs(outcome.filename), "rows": outcome.rows,
                      "counts": outcome.counts, "source": source})


def audit_export(*, kind: str, office_id: int | None, actor, ip: str | None, rows: int, masked: bool,
                 filters: dict | None = None, source: str = "web") -> None:
    with transaction.atomic():
        audit_log(actor=actor, action="export", ip=ip, office_id=office_id,
                  detail={"export": kind, "rows": rows, "masked": masked, "filters": filters or {}, "source": source})


def _claim(job_id: int, expected: str, running: str) -> bool:
    """Take a job only if nobody else has: a conditional update, as the worker may run twice."""
    return bool(ImportJob.objects.filter(pk=job_id, status=expected).update(status=running, updated_at=timezone.now()))


def _jobs_waiting() -> bool:
    return ImportJob.objects.filter(status__in=[ImportStatus.QUEUED, ImportStatus.CONFIRMED]).exists()


@sweep("import_jobs", wake=_jobs_waiting)  # a file uploaded or confirmed is taken up within a second or two
def run_import_jobs() -> str:
    """Check queued uploads and write confirmed ones; fail jobs whose worker died; drop old uploads."""
    now = timezone.now()
    stale = ImportJob.objects.filter(status__in=[ImportStatus.VALIDATING, ImportStatus.APPLYING],
                                     updated_at__lt=now - STALE_AFTER)
    failed = stale.update(status=ImportStatus.FAILED, finished_at=now, updated_at=now,
                          message="处理中断（后台任务已停止），没有写入任何数据；请重新上传")
    dropped = (ImportJob.objects.exclude(content=b"").exclude(status__in=ImportJob.ACTIVE)
               .filter(updated_at__lt=now - KEEP_UPLOADS).update(content=b""))
    checked = written = 0
    for pk, status in ImportJob.objects.filter(status__in=[ImportStatus.QUEUED, ImportStatus.CONFIRMED]) \
            .order_by("created_at").values_list("pk", "status"):
        running = ImportStatus.VALIDATING if status == ImportStatus.QUEUED else ImportStatus.APPLYING
        if not _claim(pk, status, running):
            continue
        job = ImportJob.objects.select_related("office", "created_by", "confirmed_by").get(pk=pk)
        with bounded.memory_limit(settings.LIANHU_WORKER_MEMORY_MB):  # a MemoryError fails the job, not the worker
            if status == ImportStatus.QUEUED:
                job_validate(job)
                checked += 1
            else:
                job_apply(job)
                written += 1
    return f"checked {checked}, wrote {written}, failed {failed} stale, dropped {dropped} old uploads"

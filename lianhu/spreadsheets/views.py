"""Spreadsheets in and out on the web: templates, uploads with a preview, confirmation, exports.

Every look-up goes through `visible_to(user, action)`: an import needs the sheet's write action
(edit_roster for households, manage_members for members and links), an export shows what the list
shows ("view"; the audit log's, only exported, what its page shows: "view_audit") and masks ID
numbers, phones and sensitive tags unless every exported row may be revealed by the user. An import
job is seen only by the person who uploaded it (its problem list quotes the file, ID numbers included).
"""

from __future__ import annotations

import io
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from lianhu.audit.lookups import audit_id_lookup
from lianhu.audit.services import masked_search
from lianhu.audit.verbs import FILTER_LABELS
from lianhu.common import xlsx
from lianhu.common.http import client_ip, parse_pk
from lianhu.common.registry import UnknownEntry
from lianhu.common.sheets import sheet_class
from lianhu.org.models import Branch, Grid, Office
from lianhu.org.views import list_params

from . import jobs
from .models import ImportJob, ImportStatus

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_PROBLEMS = 500


def _sheet_class_or_404(kind: str, *, importing: bool = True):
    """The registered sheet `kind`; 404 for an unknown one, and for one only exported (the audit log) when
    the page imports."""
    try:
        cls = sheet_class(kind)
    except UnknownEntry:
        raise Http404 from None
    if importing and not cls.importable:
        raise Http404
    return cls


def _offices(user, action: str):
    """Offices where the user may `action` some branch or grid (write actions hold at the user's own level)."""
    branches = Branch.objects.visible_to(user, action).values("office_id")
    grids = Grid.objects.visible_to(user, action).values("branch__office_id")
    return Office.objects.filter(Q(pk__in=branches) | Q(pk__in=grids)).order_by("code")


def _office_or_404(request, action: str) -> Office:
    """The office the user works for with `action`; one who works for several names it with ?office=."""
    offices = _offices(request.user, action)
    wanted = request.GET.get("office") or request.POST.get("office")
    if wanted:
        office = offices.filter(pk=pk).first() if (pk := parse_pk(wanted)) is not None else None
    else:
        office = offices.first() if offices.count() == 1 else None
    if office is None:
        raise Http404
    return office


def _xlsx_response(buffer: io.BytesIO, filename: str) -> HttpResponse:
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@login_required
@require_safe
def template(request, kind):
    """An empty template with drop-downs of the branches and grids the user may import into."""
    cls = _sheet_class_or_404(kind)
    office = _office_or_404(request, cls.action)
    buffer = io.BytesIO()
    cls(office=office, user=request.user).write_template(buffer)
    return _xlsx_response(buffer, f"{cls.label}导入模板.xlsx")


def _described(filterset) -> dict:
    """The filters an export used, as the audit log should show them: names and labels rather than row
    numbers and codes, and a searched ID number or phone masked (the log says who exported whom, never
    the number itself)."""
    described = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, ""):
            continue
        choices = dict(getattr(filterset.filters[name], "extra", {}).get("choices") or ())
        if name == "q":
            described[name] = masked_search(value)
        else:  # a branch or grid by its own name; a choice by its label
            described[name] = getattr(value, "name", None) or str(choices.get(value, value))
    return described


@login_required
def export(request, kind):
    """The list as the user filtered it, in the template's columns, masked unless he may reveal; audited.

    The list's export buttons post its filter form here: filters and "masked" are read as the list reads them.
    The rows are read with the sheet's `export_action` ("view"; the audit log's "view_audit"), which a user
    must hold at all (404 otherwise); a sheet without personal data is never masked.
    """
    cls = _sheet_class_or_404(kind, importing=False)
    action = cls.export_action
    if not request.user.can(action):
        raise Http404
    params = list_params(request)
    filterset = cls.filterset(params, user=request.user)
    filterset.refuse_out_of_scope()  # a branch or grid outside the user's scope: 404
    if filterset.id_lookup:  # exporting the rows an ID number finds is a look-up like the list's search
        audit_id_lookup(request, filterset.id_lookup, source="export")
    queryset = cls.export_queryset_for(filterset)
    offices = list(Office.objects.visible_to(request.user, action)[:2])
    office = offices[0] if len(offices) == 1 else None
    masked = cls.personal_data and (params.get("masked") == "1" or not cls.revealable(request.user, queryset))
    sheet = cls(office=office, user=request.user, action=action)
    described = _described(filterset)
    # The title says what the file holds: the user's one branch (of a list by branch), or the filters of the list.
    branches = (list(Branch.objects.visible_to(request.user, action).values_list("name", flat=True)[:2])
                if "branch" in filterset.filters else [])
    scope = [branches[0]] if len(branches) == 1 and "branch" not in described else []
    # A masked file is for WeChat groups: the words searched for (often a name) stay out of its title.
    scope += [f"{FILTER_LABELS.get(k, k)}：{'（按关键词筛选）' if masked and k == 'q' else v}" for k, v in described.items()]
    buffer = io.BytesIO()
    rows = sheet.write_export(buffer, queryset, masked=masked, scope="，".join(scope))
    jobs.audit_export(kind=kind, office_id=office.pk if office else None, actor=request.user, ip=client_ip(request),
                      rows=rows, masked=masked, filters=described)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _xlsx_response(buffer, f"{cls.label}{'（脱敏）' if masked else ''}-{stamp}.xlsx")


class UploadForm(forms.Form):
    file = forms.FileField(label="表格文件", help_text="Excel（.xlsx、.xls）或 CSV（UTF-8、GBK 或 UTF-16 编码）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".xls", ".csv")):
            raise forms.ValidationError("请上传 .xlsx、.xls 或 .csv 文件")
        try:  # before the file is read into memory; its rows and unpacked size are measured by job_create
            xlsx.check_bytes(upload.size, settings.LIANHU_UPLOAD_MAX_BYTES)
        except xlsx.FileTooBig as e:
            raise forms.ValidationError(str(e)) from None
        return upload


@login_required
def upload(request, kind):
    """Upload a sheet: one beyond the limits is refused unparsed; small ones are checked at once, big
    ones by the background worker."""
    cls = _sheet_class_or_404(kind)
    office = _office_or_404(request, cls.action)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = jobs.job_create(kind=kind, office=office, user=request.user, filename=upload.name,
                                  data=upload.read())
        except xlsx.FileTooBig as e:
            form.add_error("file", str(e))
        else:
            if job.status == ImportStatus.VALIDATING:
                jobs.job_validate(job, inline=True)
            return redirect("transfer:job_detail", pk=job.pk)
    recent = ImportJob.objects.visible_to(request.user).filter(created_by=request.user, kind=kind, office=office)[:10]
    return render(request, "transfer/upload.html", {
        "form": form, "sheet": cls, "office": office, "recent": recent, "inline_rows": jobs.INLINE_ROWS,
        "max_size": xlsx.size_text(settings.LIANHU_UPLOAD_MAX_BYTES), "max_rows": settings.LIANHU_UPLOAD_MAX_ROWS,
        "multiple_offices": _offices(request.user, cls.action).count() > 1,
    })


def _job_or_404(request, pk) -> ImportJob:
    """A job of the user's own, in an office where he may still write what the sheet writes."""
    job = (ImportJob.objects.visible_to(request.user).select_related("office")
           .filter(pk=pk, created_by=request.user).first())
    if job is None:
        raise Http404
    if not _offices(request.user, _sheet_class_or_404(job.kind).action).filter(pk=job.office_id).exists():
        raise Http404
    return job


@login_required
@require_safe
def job_detail(request, pk):
    job = _job_or_404(request, pk)
    errors = [p for p in job.problems if p["level"] == "error"]
    warnings = [p for p in job.problems if p["level"] != "error"]
    return render(request, "transfer/job.html", {
        "job": job, "sheet": sheet_class(job.kind), "errors": errors[:SHOWN_PROBLEMS],
        "warnings": warnings[:SHOWN_PROBLEMS], "more_errors": max(0, job.error_count - SHOWN_PROBLEMS),
        "counts": _count_rows(job.counts), "updates": job.updates,
        "more_updates": len(job.updates) >= xlsx.UPDATE_LIMIT,
    })


def _count_rows(counts: dict) -> list[tuple]:
    return [(entity, c.get("created", 0), c.get("updated", 0), c.get("unchanged", 0), c.get("ended", 0))
            for entity, c in (counts or {}).items()]


@login_required
@require_safe
def job_progress(request, pk):
    """The progress bar, polled by htmx every second; once the job is done the page reloads itself."""
    job = _job_or_404(request, pk)
    response = render(request, "transfer/_progress.html", {"job": job})
    if not job.is_running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def job_confirm(request, pk):
    job = _job_or_404(request, pk)
    if not job.can_confirm:
        messages.error(request, "这个文件不能导入：请先处理其中的问题，或重新上传")
        return redirect("transfer:job_detail", pk=job.pk)
    job = jobs.job_confirm(job=job, user=request.user, ip=client_ip(request))
    if job.status == ImportStatus.APPLIED:
        messages.success(request, job.message)
    elif job.status == ImportStatus.CONFIRMED:
        messages.success(request, "已确认，正在后台写入，完成后本页会自动更新")
    else:
        messages.error(request, job.message or "没有写入任何数据")
    return redirect("transfer:job_detail", pk=job.pk)


@login_required
@require_safe
def job_problems(request, pk):
    """The uploaded sheet again, with an 错误说明 column and the cells in question shaded."""
    job = _job_or_404(request, pk)
    if not job.annotatable:
        raise Http404
    data = job.read_content()
    cls = sheet_class(job.kind)
    table = xlsx.read_table(data, job.filename, cls.columns, cls.kind)
    problems = [xlsx.Problem(**p) for p in job.problems]
    note = ""
    if job.error_count + job.warning_count > len(problems):
        note = f"问题太多，只标注了前 {len(problems):,} 个"
    buffer = io.BytesIO()
    xlsx.write_annotated(buffer, data, table, problems, note=note)
    stem = job.filename.rsplit(".", 1)[0]
    return _xlsx_response(buffer, f"{stem}-问题清单.xlsx")

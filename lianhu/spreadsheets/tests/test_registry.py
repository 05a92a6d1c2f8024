"""A sheet kind an app registers gets the template, export and upload pages without touching this app."""

import io

import django_filters as filters
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from lianhu.common import xlsx
from lianhu.common.sheets import register_sheet, sheets
from lianhu.org.filters import ScopedFilterSet
from lianhu.org.models import Branch, Grid

pytestmark = pytest.mark.django_db


class GridFilter(ScopedFilterSet):
    branch = filters.ModelChoiceFilter(queryset=Branch.objects.none())
    grid = filters.ModelChoiceFilter(queryset=Grid.objects.none(), field_name="pk")

    class Meta:
        model = Grid
        fields = ["branch", "grid"]


class GridSheet(xlsx.RosterSheet):
    """A ledger of grids: enough of a sheet to show what the registry gives a new kind."""

    kind = "test_grids"
    sheet_name = "网格"
    label = "网格台账"
    action = "edit_grids"
    filterset = GridFilter
    columns = (xlsx.Column("name", "网格名称", ()), xlsx.Column("code", "网格编码", (), text_format=True))

    def export_rows(self, queryset, *, masked):
        for grid in queryset.order_by("code"):
            yield [grid.name, grid.code]


@pytest.fixture
def grid_sheet():
    register_sheet(GridSheet)
    yield GridSheet
    sheets.unregister(GridSheet.kind)


def test_a_registered_kind_has_its_template_and_export(world, client_for, grid_sheet):
    client = client_for(world.secretary_a)
    template = client.get(reverse("transfer:template", args=["test_grids"]))
    assert template.status_code == 200
    assert load_workbook(io.BytesIO(template.content)).active["A2"].value == "网格名称"

    export = client.post(reverse("transfer:export", args=["test_grids"]))
    rows = [r for r in load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=3, values_only=True) if r[0]]
    assert sorted(r[0] for r in rows) == ["甲村一网格", "甲村二网格"]  # his branch's grids only


def test_a_registered_kind_keeps_the_scope_of_its_list(world, client_for, grid_sheet):
    client = client_for(world.secretary_b)
    assert client.post(reverse("transfer:export", args=["test_grids"]), {"branch": world.branch_a.pk}).status_code == 404
    assert client.get(reverse("transfer:upload", args=["test_grids"])).status_code == 200
    assert client_for(world.member_user).get(reverse("transfer:upload", args=["test_grids"])).status_code == 404


def test_an_unregistered_kind_is_404(world, client_for):
    assert client_for(world.secretary_a).get(reverse("transfer:template", args=["test_grids"])).status_code == 404

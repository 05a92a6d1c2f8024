"""The spreadsheet engine: cells as villages type them, sheets as villages lay them out."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from lianhu.common import xlsx
from lianhu.org.tests.workbooks import HOUSEHOLD_HEADER, household_row, households_file, xlsx_bytes
from lianhu.common.xlsx import CellError, Column
from lianhu.org.sheets import HouseholdSheet

COLUMNS = HouseholdSheet.columns


# ---------------------------------------------------------------------------------------------
# Cells


@pytest.mark.parametrize("raw", [
    dt.date(1991, 1, 1), dt.datetime(1991, 1, 1, 0, 0), 33239, 33239.0, "33239", "1991.1.1", "1991/01/01", "1991-1-1",
    "1991年1月1日", " 1991-01-01 ", "１９９１年１月１日", "19910101", "1991-01-01 00:00:00", 19910101,
])
def test_it_reads_a_date_in_every_spelling_villages_use(raw):
    assert xlsx.date(raw) == dt.date(1991, 1, 1)


@pytest.mark.parametrize("raw,message", [
    ("1991.13.1", "不存在"), ("去年", "无法识别"), ("1991", "只写到年"), ("1998.07", "只写到月"), ("1998年7月", "只写到月"),
    (1998.07, "“1998.07”只写到月"), (1998, "“1998”只写到年"),  # numbers: as serials they would be days of 1905
    (1998.0700000001, "“1998.07”只写到月"), (199807, "“199807”只写到月"), (1991.13, "“1991.13”无法识别"),
    (1998.123, "无法识别"), ("1990.13", "无法识别"), (19910230, "“19910230”不存在"),
])
def test_it_says_why_a_date_cannot_be_read(raw, message):
    with pytest.raises(CellError, match=message):
        xlsx.date(raw)


def test_it_rejects_an_id_number_excel_stored_as_a_number_and_says_why():
    with pytest.raises(CellError) as e:
        xlsx.id_number(360426199101010071)  # Excel keeps 15 significant digits: 3.60426E+17
    assert "存成了数字" in str(e.value) and "3.60426E+17" in str(e.value) and "文本" in str(e.value)
    with pytest.raises(CellError, match="存成了数字"):
        xlsx.id_number("3.60426E+17")  # the same number saved to CSV by Excel


def test_it_hints_that_trailing_zeros_may_be_excel_losing_digits():
    with pytest.raises(CellError, match="末尾是 000"):
        xlsx.id_number("360426199101010000")


@pytest.mark.parametrize("raw,value", [
    ("41018419600101003x", "41018419600101003X"), (" 360426199101010071 ", "360426199101010071"),
    ("３６０４２６１９９１０１０１００７１", "360426199101010071"), ("360426\u200b199101010071\ufeff", "360426199101010071"),
    ("360426 1991 0101 0071", "360426199101010071"), ("\u3000360426199101010071\xa0", "360426199101010071"),
])
def test_it_accepts_lower_case_x_full_width_digits_blanks_and_invisible_characters(raw, value):
    assert xlsx.id_number(raw).value == value


def test_it_accepts_a_legacy_15_digit_id_number_even_from_a_numeric_cell():
    assert xlsx.id_number("410184910101001").kind == "legacy15"
    assert xlsx.id_number(410184910101001.0).value == "410184910101001"


def test_it_says_why_an_id_number_is_wrong():
    with pytest.raises(CellError, match="校验位不正确"):
        xlsx.id_number("360426199101010072")


@pytest.mark.parametrize("raw", ["+86 139 1234 5678", "139-1234-5678", "13912345678", 13912345678.0, "０１３９１２３４５６７８"[1:]])
def test_it_normalises_phones_with_country_code_dashes_and_spaces(raw):
    assert xlsx.phone(raw) == "13912345678"


def test_codes_in_numeric_cells_keep_their_digits_up_to_15_and_are_refused_beyond():
    assert xlsx.code(410173101001001.0, "网格编码") == "410173101001001"
    with pytest.raises(CellError, match="户编号存成了数字"):
        xlsx.code(4101731012010001.0, "户编号")


def test_tags_take_any_separator_and_wu_clears():
    allowed = ("独居老人", "空巢老人", "留守儿童")
    assert xlsx.tags("留守儿童，独居老人", allowed, "关爱标签") == ["独居老人", "留守儿童"]
    assert xlsx.tags("独居老人、 空巢老人", allowed, "关爱标签") == ["独居老人", "空巢老人"]
    assert xlsx.tags("无", allowed, "关爱标签") == []
    assert xlsx.tags("", allowed, "关爱标签") is None
    with pytest.raises(CellError, match="不是可选的关爱标签"):
        xlsx.tags("孤儿", allowed, "关爱标签")


def test_yes_and_no_in_their_usual_forms():
    assert [xlsx.boolean(v) for v in ("是", "否", "√", "Y", 1.0, "")] == [True, False, True, True, True, None]


@pytest.mark.parametrize("value, year, months", [
    ("1991.01", 1991, (1,)), ("1991-1", 1991, (1,)), ("1991/12", 1991, (12,)), ("1991年1月", 1991, (1,)),
    ("１９９１年０１月", 1991, (1,)), ("199101", 1991, (1,)), ("1991年", 1991, ()), ("1991", 1991, ()),
    (1991.01, 1991, (1,)), (1991.12, 1991, (12,)), (1991.1, 1991, (1, 10)), (1991.2, 1991, (2,)), (1991, 1991, ()),
    (1991.0100000001, 1991, (1,)), (199101, 1991, (1,))])
def test_a_date_to_the_month_or_year_only_is_read_as_such(value, year, months):
    assert xlsx.partial_date(value)[1:] == (year, months)


@pytest.mark.parametrize("value", ["1991.13", "1991-01-01", "19910101", "1991.1.1", 32935, 45000.5, "abc", 2300,
                                   1991.13, 1998.123, 199113, 19910101])
def test_full_dates_serial_numbers_and_nonsense_are_no_partial_dates(value):
    assert xlsx.partial_date(value) is None


# ---------------------------------------------------------------------------------------------
# Sheets


def read(data: bytes, name: str = "a.xlsx") -> xlsx.Table:
    return xlsx.read_table(data, name, COLUMNS)


def test_it_finds_the_header_below_a_merged_title_row():
    data = households_file(household_row(name="王秀英"), merges=["A1:S1"])
    table = read(data)
    assert table.header_row == 2
    assert [n for n, _ in table.rows] == [3]


def test_it_reads_a_header_of_merged_cells_two_rows_tall():
    top = ["户信息", "", "", "", "", "", "", "", "居民信息"] + [""] * 10
    rows = [top, HOUSEHOLD_HEADER, household_row(name="王秀英", id_number="360426199101010071")]
    data = xlsx_bytes(rows, merges=["A1:H1", "I1:S1", "I2:I2"])
    # And a header cell merged over both rows: 姓名 written once, in I1:I2.
    rows2 = [top[:8] + ["姓名"] + [""] * 10, HOUSEHOLD_HEADER[:8] + [""] + HOUSEHOLD_HEADER[9:],
             household_row(name="王秀英")]
    data2 = xlsx_bytes(rows2, merges=["A1:H1", "I1:I2", "J1:S1"])
    for blob in (data, data2):
        table = read(blob)
        assert table.header_row == 2 and table.index["name"] == 8
        assert list(table.rows)[0][1][8] == "王秀英"


def test_it_picks_the_data_sheet_among_extra_and_hidden_sheets():
    instructions = [["填写说明"], ["姓名：户籍登记的姓名"], ["身份证号：18 位"]]
    data = households_file(household_row(name="王秀英"), title=None, sheet="户籍",
                           before=[("说明", instructions)], after=[("汇总", [["支部", "户数"], ["甲村", 3]])])
    table = read(data)
    assert table.sheet == "户籍" and len(list(table.rows)) == 1


def test_columns_in_another_order_with_other_names_and_hidden_ones_are_read():
    rows = [["备用", "身份证号码", "姓名", "手机号", "支部", "村民小组"],
            ["x", "360426199101010071", "王秀英", "13912345678", "甲村", "一组"]]
    table = read(xlsx_bytes(rows, hidden_columns=["A", "D"]))
    get = {k: table.getter(k) for k in ("id_number", "name", "phone", "branch", "villager_group")}
    cells = list(table.rows)[0][1]
    assert {k: g(cells) for k, g in get.items()} == {"id_number": "360426199101010071", "name": "王秀英",
                                                     "phone": "13912345678", "branch": "甲村", "villager_group": "一组"}
    assert table.ignored == ["备用（隐藏列）"]  # a hidden column is still read: 手机号 above


def test_blank_rows_are_skipped_and_rows_keep_their_sheet_numbers():
    data = xlsx_bytes([HOUSEHOLD_HEADER, household_row(name="甲"), [], ["  "] * 3, household_row(name="乙")])
    assert [n for n, _ in read(data).rows] == [2, 5]


def test_a_missing_required_column_is_named():
    table = read(xlsx_bytes([["户编号", "支部", "网格", "住址"], ["", "甲村", "一网格", "1号"]]))
    assert [p.message for p in table.problems] == ["缺少“姓名”列"]


def test_a_file_without_a_recognisable_header_says_so():
    table = read(xlsx_bytes([["a", "b"], [1, 2]]))
    assert "没有找到表头" in table.problems[0].message


def test_a_file_that_is_not_a_spreadsheet_says_so():
    table = read(b"PK\x03\x04 broken zip", "a.xlsx")
    assert "文件无法读取" in table.problems[0].message


@pytest.mark.parametrize("content", [b"just some notes, saved as .xlsx", "备忘录：不是表格".encode("gbk"),
                                     bytes(range(256)) * 4])
def test_a_file_named_xlsx_that_is_no_workbook_says_so_rather_than_blame_the_header(content):
    (problem,) = read(content, "户籍.xlsx").problems
    assert problem.row == 0 and "内容却不是 Excel 表格" in problem.message


def test_a_table_saved_as_text_under_an_xls_name_with_other_columns_is_told_about_its_header():
    (problem,) = read("编号\t备注\r\n1\t无\r\n".encode("gbk"), "导出.xls").problems
    assert "没有找到表头" in problem.message


def test_a_table_saved_as_text_under_an_xls_name_is_still_read():
    table = read("姓名\t身份证号\t支部\r\n王秀英\t360426199101010071\t甲村\r\n".encode("gbk"), "导出.xls")
    assert not table.problems and table.getter("name")(list(table.rows)[0][1]) == "王秀英"


def test_a_second_column_of_the_same_meaning_is_named_as_such_not_as_unknown():
    rows = [["姓名", "联系电话", "手机号", "支部", "备用"], ["王秀英", "13912345678", "13800001111", "甲村", "x"]]
    table = read(xlsx_bytes(rows))
    assert table.getter("phone")(list(table.rows)[0][1]) == "13912345678"
    assert table.ignored == ["手机号（与“联系电话”是同一项，只导入了“联系电话”列）", "备用"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16", "utf-16-le", "utf-16-be"])
def test_csv_in_utf8_gbk_and_utf16_with_or_without_a_bom(encoding):
    text = "姓名,身份证号,联系电话,支部\r\n王秀英,360426199101010071,139-1234-5678,甲村\r\n"
    table = read(text.encode(encoding), "a.csv")
    assert table.sheet == "CSV"
    assert table.getter("name")(list(table.rows)[0][1]) == "王秀英"


@pytest.mark.parametrize("data", [
    "姓名,身份證號,聯繫電話,支部\r\n王秀英,360426199101010071,139-1234-5678,甲村\r\n".encode("big5"),
    "氏名,電話番号,支部\r\n山田花子,090-1234-5678,甲村\r\n".encode("shift_jis"),
    "姓名,身份证号\r\n王秀英,360426199101010071\r\n".encode("utf-16-le")[:-1],  # a byte short: UTF-16 no more
], ids=["big5", "shift_jis", "broken utf-16"])
def test_a_csv_in_another_encoding_is_refused_as_such_not_for_its_header(data):
    (problem,) = read(data, "a.csv").problems
    assert problem.message == "文件编码无法识别：请在 Excel/WPS 中另存为 UTF-8 CSV 或 xlsx"


def test_xls_files_are_read_too(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    ws = book.add_sheet("户籍")
    for c, header in enumerate(["姓名", "身份证号", "支部"]):
        ws.write(0, c, header)
    for c, value in enumerate(["王秀英", "360426199101010071", "甲村"]):
        ws.write(1, c, value)
    path = tmp_path / "a.xls"
    book.save(str(path))
    table = read(path.read_bytes(), "a.xls")
    assert table.getter("id_number")(list(table.rows)[0][1]) == "360426199101010071"


# ---------------------------------------------------------------------------------------------
# Writing


def test_the_template_has_drop_downs_text_id_columns_and_instructions():
    options = {"branch": ["甲村", "乙社区"], "relation": ["户主", "配偶"]}
    buffer = io.BytesIO()
    xlsx.write_workbook(buffer, sheet_name="户籍", title="甲办事处户籍", columns=COLUMNS, rows=[], options=options,
                        instructions=["一行一位居民"], required=("name",))
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["户籍", "选项", "填写说明"]
    assert book["选项"].sheet_state == "hidden"
    ws = book["户籍"]
    assert [c.value for c in ws[2]] == HOUSEHOLD_HEADER
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "'选项'!$A$1:$A$2" in formulas and "'选项'!$B$1:$B$2" in formulas
    assert list(book["选项"].iter_cols(values_only=True)) == [("甲村", "乙社区"), ("户主", "配偶")]  # every list whole
    assert ws.column_dimensions["M"].number_format == "@"  # 身份证号 typed as text
    assert "一行一位居民" in [r[0].value for r in book["填写说明"].iter_rows()]


def test_values_are_written_as_their_own_kind_of_cell_and_text_never_becomes_a_formula():
    buffer = io.BytesIO()
    row = ["=HYPERLINK(\"http://x.cn\",\"点我\")", "http://x.cn", dt.date(1991, 1, 1), 3, 2.5, None, ""]
    xlsx.write_workbook(buffer, sheet_name="户籍", title="甲办事处户籍", columns=COLUMNS, rows=[row], options={},
                        instructions=[])
    ws = load_workbook(io.BytesIO(buffer.getvalue()))["户籍"]
    cells = list(ws[3])
    assert cells[0].data_type == "s" and cells[0].value == row[0]  # a name typed as "=..." stays a name
    assert cells[1].value == "http://x.cn" and cells[1].hyperlink is None
    assert cells[2].value.date() == dt.date(1991, 1, 1) and cells[2].number_format == "yyyy-mm-dd"
    assert (cells[3].value, cells[4].value) == (3, 2.5) and cells[5].value is None and cells[6].value is None


def test_the_problem_download_is_the_users_sheet_with_an_error_column():
    data = households_file(household_row(name="王秀英", id_number=360426199101010071), merges=["A1:S1"])
    table = read(data)
    problem = table.problem(3, "id_number", "身份证号存成了数字")
    buffer = io.BytesIO()
    xlsx.write_annotated(buffer, data, table, [problem])
    ws = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws["A1"].value == "甲村户籍台账"
    assert ws.cell(2, 20).value == "错误说明"
    assert ws.cell(3, 20).value == "身份证号：身份证号存成了数字"
    assert ws["M3"].fill.fgColor.rgb.endswith("FDECEA") and ws["M3"].number_format == "@"
    assert ws["B3"].fill.fgColor.rgb in (None, "00000000")  # only the cells in question are shaded
    assert ws.column_dimensions["M"].number_format == "@"  # a corrected ID number typed in stays text
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:S1"]  # the title merged as it was


def test_a_problem_sheet_with_a_two_row_header_and_merged_households_reads_back_as_the_original():
    header = ["户编号", "支部", "网格", "住址", "姓名", "身份证号"]
    rows = [["甲村户籍台账"], ["户编号", "户籍信息", None, None, "居民", None], [None, "支部", "网格", "住址", "姓名", "身份证号"],
            ["", "甲村", "一网格", "一组8号", "王建国", 360426199101010071], ["", None, None, None, "李秀英", "360426199202020082"]]
    data = xlsx_bytes(rows, merges=["A1:F1", "A2:A3", "B2:D2", "E2:F2", "B4:B5", "C4:C5", "D4:D5"])
    columns = [Column(k, h) for k, h in zip(("code", "branch", "grid", "address", "name", "id_number"), header)]
    table = xlsx.read_table(data, "a.xlsx", columns)
    problems = [table.problem(4, "id_number", "身份证号存成了数字"), table.problem(5, "name", "请核对", "warning")]
    buffer = io.BytesIO()
    xlsx.write_annotated(buffer, data, table, problems)

    again = xlsx.read_table(buffer.getvalue(), "a.xlsx", columns)
    assert (again.header_row, again.index, again.ignored) == (table.header_row, table.index, ["错误说明"])
    assert [cells[:6] for _n, cells in again.rows] == [cells[:6] for _n, cells in table.rows]
    ws = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws.cell(5, 7).value == "提醒 姓名：请核对" and ws["E5"].fill.fgColor.rgb in (None, "00000000")
    assert ws.cell(4, 7).value == "身份证号：身份证号存成了数字"


def test_a_cell_in_question_keeps_its_shading_where_it_is_merged():
    rows = [["支部", "姓名", "出生日期"], ["不存在村", "王建国", dt.date(1960, 1, 1)], [None, "李秀英", None]]
    data = xlsx_bytes(rows, merges=["A2:A3", "C2:C3", "C2:C3"])  # a damaged file repeats a range
    columns = [Column("branch", "支部"), Column("name", "姓名"), Column("birth_date", "出生日期")]
    table = xlsx.read_table(data, "a.xlsx", columns)
    buffer = io.BytesIO()
    xlsx.write_annotated(buffer, data, table, [table.problem(2, "branch", "支部“不存在村”不存在")])
    ws = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert ws["A2"].fill.fgColor.rgb.endswith("FDECEA") and ws["A2"].value == "不存在村"
    assert ws["C2"].number_format == "yyyy-mm-dd" and ws["C2"].value.date() == dt.date(1960, 1, 1)
    assert sorted(str(m) for m in ws.merged_cells.ranges) == ["A2:A3", "C2:C3"]


def test_a_column_is_normalised_once_per_distinct_value_and_refusals_keep_their_positions():
    calls = []

    def floors(value):
        calls.append(value)
        return xlsx.integer(value, units="层")

    values, errors = xlsx.normalise_column(("2层", "", None, "2层", "三层", 2, " ", "三层"), floors)
    assert values == [2, None, None, 2, None, 2, None, None]
    assert sorted(errors) == [4, 7] and "应为整数" in str(errors[4])
    assert sorted(calls, key=str) == [" ", 2, "2层", "三层"]


def test_a_boolean_cell_is_not_taken_for_the_number_it_equals():
    values, errors = xlsx.normalise_column((1, True, 0.0, False, "是"), xlsx.boolean)
    assert values == [True, True, False, False, True] and not errors
    values, errors = xlsx.normalise_column((True, 1, 1.0), lambda v: xlsx.integer(v))
    assert values == [None, 1, 1] and list(errors) == [0]  # TRUE is not a number of floors


def test_columns_the_file_lacks_read_as_blank():
    table = read(households_file(household_row(name="王秀英", id_number="360426199101010071")))
    numbers, (names, ids, missing) = xlsx.read_columns(table, ("name", "id_number", "no_such_column"))
    assert numbers == [3] and names == ("王秀英",) and ids == ("360426199101010071",) and missing == ("",)


def test_a_column_is_recognised_by_any_of_its_names_ignoring_stars_and_notes():
    lookup = xlsx.header_lookup([Column("birth_date", "出生日期", ("出生年月日",))])
    for header in ("出生日期", "*出生日期", "出生日期（yyyy-mm-dd）", " 出生年月日 ", "出生日期："):
        assert lookup.get(xlsx.normalise_header(header)) == "birth_date", header


def test_a_sheet_starting_in_column_b_below_blank_rows_keeps_its_columns_and_row_numbers():
    rows = [[], [], [None] + HOUSEHOLD_HEADER, [None] + household_row(name="王秀英", id_number="360426199101010071")]
    table = read(xlsx_bytes(rows))
    assert table.header_row == 3 and table.index["name"] == 9
    [(n, cells)] = list(table.rows)
    assert n == 4 and table.getter("id_number")(cells) == "360426199101010071"


def test_a_masked_export_sent_back_gets_one_message_for_the_file_not_one_per_cell():
    masked = [xlsx.Problem(row=n, column="身份证号", letter="M", message=f"身份证号{xlsx.MASKED}（含 *），不能导入")
              for n in range(3, 33)]
    other = xlsx.Problem(row=40, column="网格", letter="C", message="网格“第九网格”不存在")
    outcome = xlsx.Outcome(kind="households", problems=[*masked, other])
    xlsx._masked_file(outcome)
    assert [(p.row, p.message) for p in outcome.problems] == [(0, xlsx.MASKED_FILE), (40, other.message)]

    few = xlsx.Outcome(kind="households", problems=masked[:3])  # a few masked cells: each row is named
    xlsx._masked_file(few)
    assert few.problems == masked[:3]
    pasted = xlsx.Outcome(kind="households", rows=5000, problems=list(masked))  # 30 masked phones in 5,000 rows
    xlsx._masked_file(pasted)
    assert pasted.problems == masked


def test_a_masked_name_is_refused_so_a_masked_export_cannot_add_people_named_with_stars():
    assert xlsx.person_name(" 王 建国 ") == "王建国"
    with pytest.raises(CellError, match="姓名是脱敏后的值"):
        xlsx.person_name("王**")


@pytest.mark.parametrize("cell", ['="360426199101010071"', "'360426199101010071", " ＝\"360426199101010071\" "])
def test_digits_kept_as_text_the_spreadsheet_ways_are_read_without_the_wrapping(cell):
    assert xlsx.id_number(cell).value == "360426199101010071"
    assert xlsx.phone(cell.replace("360426199101010071", "13800008888")) == "13800008888"
    assert xlsx.code(cell.replace("360426199101010071", "410173001001")) == "410173001001"


def test_a_phone_with_86_before_it_and_no_plus_is_a_mobile():
    assert xlsx.phone("86 13800008888") == xlsx.phone("+86 138-0000-8888") == "13800008888"


def test_a_tag_of_the_other_column_says_which_column_it_belongs_in():
    with pytest.raises(CellError, match="^“低保”是敏感标签，请填在“敏感标签”列$"):
        xlsx.tags("独居老人、低保", ["独居老人", "留守儿童"], "关爱标签", {"低保": "敏感标签"})
    with pytest.raises(CellError, match="不是可选的关爱标签"):
        xlsx.tags("五保", ["独居老人"], "关爱标签", {"低保": "敏感标签"})


def test_a_hidden_stale_column_yields_to_the_visible_one_of_the_same_meaning():
    header = ["姓名", "电话", "身份证号", "手机号码"]
    row = ["王秀英", "13900000000", "360426199101010071", "13812345678"]
    columns = [Column("name", "姓名"), Column("phone", "联系电话", ("电话", "手机号码")), Column("id_number", "身份证号")]
    table = xlsx.read_table(xlsx_bytes([header, row], hidden_columns=["B"]), "a.xlsx", columns)
    assert table.index["phone"] == 3
    assert table.ignored == ["电话（隐藏列，与“手机号码”是同一项，只导入了“手机号码”列）"]
    assert xlsx.hidden_columns(xlsx_bytes([header, row], hidden_columns=["B", "D"]), "Sheet1") == {1, 3}
    visible = xlsx.read_table(xlsx_bytes([header, row]), "a.xlsx", columns)
    assert visible.index["phone"] == 1  # both visible: the first, as before

"""The spreadsheet engine: reading the sheets villages keep, writing templates and ledgers (台账).

Reading uses python-calamine (Rust; about 15 times openpyxl's read speed, MEASURED.md) for .xlsx and
.xls, and the csv module for .csv in UTF-8, GBK or UTF-16. The sheet and its header row are found by
matching header names, so title rows above the header, merged header cells, extra sheets and
columns in any order are all fine. Cells are normalised by the functions below (full-width digits,
invisible characters, dates in five spellings, ID numbers that Excel turned into numbers …); each
one either returns a clean value or raises CellError with a Chinese message for the problem list.

Writing uses xlsxwriter, row by row (constant_memory): a template or an export is the data sheet
(title row, header row, drop-downs fed from a hidden options sheet, ID columns formatted as text)
plus an instruction sheet. The domain's columns and row binding live in each app's `sheets.py`.

The package is split by job: `cells` (normalising one cell), `reading` (a sheet into a Table),
`sizing` (a file's size and rows without parsing it, refused beyond the limits), `writing`
(templates, exports, the problem sheet), `importing` (RosterSheet, Outcome, import_file).
Callers use `xlsx.<name>` as before; the names below are the package's API.
"""

from .cells import (CellError, DIGITS_LOST, EXCEL_EPOCH, MASKED, MASKED_FILE, NO, NONE_WORDS, TAG_SEPARATORS,  # noqa: F401
                    YES, Memo, PartialDate, Progress, boolean, choice, code,
                    compact, date, decimal, digits_text, field_rules, id_number, integer, partial_date, person_name,
                    phone, tags, text)
from .importing import (UPDATE_LIMIT, Outcome, RosterSheet, Update, _masked_file, chunks, import_file,  # noqa: F401
                        normalise_column, read_columns)
from .reading import (ENCODING_UNKNOWN, HEADER_SCAN_ROWS, NOT_A_WORKBOOK, Column, Problem, SheetRows, Table,  # noqa: F401
                      decode_csv, detect_format, header_lookup, hidden_columns, normalise_header, read_table)
from .sizing import FileSize, FileTooBig, check_bytes, measure, size_text  # noqa: F401
from .writing import DATE_FORMAT, FORMATS, TEXT_FORMAT, MERGED_ROWS_KEPT, write_annotated, write_workbook  # noqa: F401
from ..sheets import sheet_class  # noqa: F401  (xlsx.sheet_class(kind), as before the registry)

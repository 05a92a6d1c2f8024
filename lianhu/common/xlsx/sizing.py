"""How big a file is, found without parsing it, so that one beyond the limits is refused before calamine reads it.

calamine holds a whole sheet in memory, every cell from the first to the last: a 3.7 MB .xlsx of
repeated rows took 1.7 GB and an 11 MB one killed the server. A zip says what its parts unpack to,
and each worksheet states its range (`<dimension ref="A1:K300000"/>`) at its head; both are read
first, cheaply. Both can lie, so the parts are then unpacked as a stream (never held), up to the
limit, and the rows of the worksheets counted: 0.2–0.5 s for the 72 MB of XML of a 100k-row export.
What no count can bound (a sheet with one cell in A1 and one in XFD1048576 is two rows and 550 GB
to calamine) is left to the trial read under a memory limit (`lianhu.common.bounded`).
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from .cells import CellError
from .reading import decode_csv, detect_format

# A file may unpack to 2 KB for each row allowed (the 100k-row export's rows take 720 bytes each),
# and 1 MB for what every workbook holds besides (styles, theme, an instruction sheet).
UNPACKED_PER_ROW = 2048
UNPACKED_BESIDES = 1024 * 1024
CHUNK = 1 << 20
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]{0,3}(\d+)(?::[A-Z]{0,3}(\d+))?"')
_PREFIX = re.compile(rb"<(\w+):worksheet\b")


class FileTooBig(Exception):
    """The file is beyond the limits; the message names the limit, in Chinese."""


@dataclass(frozen=True)
class FileSize:
    """What a file holds, as far as it is known without parsing it."""

    format: str  # "xlsx", "xls" or "csv", as detect_format says
    bytes: int
    unpacked: int  # the bytes of an .xlsx's parts unpacked, the file's own bytes otherwise
    rows: int | None  # rows of all its worksheets, or lines of a CSV; None when unknown (an .xls, a broken zip)


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        mb = n / (1024 * 1024)
        return (f"{mb:.0f}" if mb >= 100 else f"{mb:.1f}".removesuffix(".0")) + " MB"
    return f"{n / 1024:.1f}".removesuffix(".0") + " KB" if n >= 1024 else f"{n} 字节"


def check_bytes(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise FileTooBig(f"文件有 {size_text(size)}，超过上限 {size_text(max_bytes)}：请拆分成几个文件分别导入")


def _check_rows(rows: int, max_rows: int) -> None:
    if rows > max_rows:
        raise FileTooBig(f"文件的工作表共有 {rows:,} 行，超过上限 {max_rows:,} 行：请拆分成几个文件分别导入"
                         "（若数据没有这么多行，请删去表格下方多余的空行后重新上传）")


def _check_unpacked(unpacked: int, max_unpacked: int) -> None:
    if unpacked > max_unpacked:
        raise FileTooBig(f"文件解压后有 {size_text(unpacked)}，超过上限 {size_text(max_unpacked)}：请拆分成几个文件分别导入"
                         "（或删去多余的空行、空列和格式后重新上传）")


def measure(data: bytes, filename: str, *, max_bytes: int, max_rows: int) -> FileSize:
    """The file's size, format and rows, read without parsing it; FileTooBig beyond the limits.

    An .xls declares nothing that can be read without parsing it (BIFF in an OLE container): it is
    bounded by its bytes, and the format holds at most 65,536 rows a sheet.
    """
    check_bytes(len(data), max_bytes)
    fmt = detect_format(data, filename)
    if fmt == "xlsx":
        max_unpacked = max_rows * UNPACKED_PER_ROW + UNPACKED_BESIDES
        rows, unpacked = _measure_xlsx(data, max_rows=max_rows, max_unpacked=max_unpacked)
    elif fmt == "csv":
        rows, unpacked = _csv_lines(data), len(data)
        _check_rows(rows, max_rows)
    else:
        rows, unpacked = None, len(data)
    return FileSize(format=fmt, bytes=len(data), unpacked=unpacked, rows=rows)


def _csv_lines(data: bytes) -> int:
    try:
        content = decode_csv(data)
    except CellError:  # refused with its reason when read; counted here as bytes
        content = data.decode("latin-1")
    ends = max(content.count("\n"), content.count("\r"))  # a Mac's CSV ends its lines with \r alone
    return ends + (content[-1:] not in ("", "\n", "\r"))  # the last line without its end


def _measure_xlsx(data: bytes, *, max_rows: int, max_unpacked: int) -> tuple[int | None, int]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts = [p for p in z.infolist() if not p.is_dir()]
            # What the zip's directory and the worksheets' heads say, first: a file that says it is
            # too big is refused without unpacking it.
            _check_unpacked(sum(p.file_size for p in parts), max_unpacked)
            sheets = [p for p in parts if "worksheets/" in p.filename and p.filename.endswith(".xml")]
            _check_rows(sum(_declared_rows(z, p) for p in sheets), max_rows)
            # Then what the parts hold.
            unpacked = rows = 0
            for part in parts:
                size, counted = _unpack(z, part, max_unpacked - unpacked, count_rows=part in sheets)
                unpacked += size
                rows += counted
                _check_unpacked(unpacked, max_unpacked)
            _check_rows(rows, max_rows)
            return rows, unpacked
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError):
        # Broken, encrypted or packed in a way zipfile does not read: calamine says what is wrong
        # when the worker reads it, under its limits.
        return None, len(data)


def _declared_rows(z: zipfile.ZipFile, part: zipfile.ZipInfo) -> int:
    """The rows of a worksheet's <dimension ref="A1:K300000"/>, read from its first 64 KB; 0 without one."""
    with z.open(_past(part, 65536)) as xml:
        head = xml.read(65536)
    found = _DIMENSION.search(head)
    if found is None:
        return 0
    first, last = int(found[1]), int(found[2] or found[1])
    return abs(last - first) + 1


def _unpack(z: zipfile.ZipFile, part: zipfile.ZipInfo, limit: int, *, count_rows: bool) -> tuple[int, int]:
    """(bytes, rows) a part really holds, unpacked as a stream and stopped past `limit` bytes; its
    rows are its <row> elements."""
    size = rows = 0
    patterns = [b"<row ", b"<row>"]
    tail = b""  # the end of the chunk before: a tag cut in two by a chunk's end is counted whole
    with z.open(_past(part, limit)) as stream:
        while size <= limit:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            if count_rows and not size:
                prefix = _PREFIX.search(chunk[:4096])  # <x:worksheet>: its rows are <x:row>
                if prefix:
                    patterns += [b"<" + prefix[1] + b":row ", b"<" + prefix[1] + b":row>"]
            size += len(chunk)
            if count_rows:
                window = tail + chunk
                rows += sum(window.count(p) - tail.count(p) for p in patterns)
                tail = window[-len(patterns[-1]) + 1:]
    return size, rows


def _past(part: zipfile.ZipInfo, limit: int) -> zipfile.ZipInfo:
    """The part's entry with its unpacked size taken as beyond `limit`, whatever the directory says:
    zipfile then reads what the part really holds, up to the limit and a little past it, and checks
    its CRC only at its real end (a part that holds more than its entry says fails that check)."""
    entry = copy.copy(part)
    entry.file_size = limit + 2 * CHUNK
    return entry

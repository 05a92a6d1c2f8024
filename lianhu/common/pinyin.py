"""Pinyin initials for name search, with surnames read the way surnames are read (单 → s, 曾 → z)."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Characters whose reading as a surname differs from pypinyin's most common reading.
SURNAME_INITIALS = {
    "单": "s", "曾": "z", "解": "x", "仇": "q", "朴": "p", "查": "z", "区": "o", "尉": "y",
    "乐": "y", "翟": "z", "盖": "g", "缪": "m", "种": "c", "秘": "b", "长": "c", "沈": "s",
    "重": "c", "覃": "q", "召": "s", "褚": "c", "员": "y", "牟": "m", "贲": "b", "隗": "w",
}
COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "司徒", "夏侯"}


def name_initials(name: str) -> str:
    """Return lower-case initials, e.g. 单雪梅 → sxm."""
    name = (name or "").strip()
    if not name:
        return ""
    surname_len = 2 if name[:2] in COMPOUND_SURNAMES else 1
    head = "".join(_surname_initial(ch) for ch in name[:surname_len])
    return (head + _given_initials(name[surname_len:])).lower()


# pypinyin takes tens of µs a call; an import of 100k residents meets the same surnames and given
# names over and over (MEASURED.md: 100k rows must import in seconds).
@lru_cache(maxsize=4096)
def _surname_initial(ch: str) -> str:
    return SURNAME_INITIALS.get(ch) or lazy_pinyin(ch, style=Style.FIRST_LETTER)[0]


@lru_cache(maxsize=65536)
def _given_initials(given: str) -> str:
    return "".join(lazy_pinyin(given, style=Style.FIRST_LETTER))

import pytest
from django.core.exceptions import ValidationError

from lianhu.common.masking import mask_id_number, mask_name, mask_phone
from lianhu.common.pinyin import name_initials
from lianhu.common.testing import valid_id_number
from lianhu.common.validators import normalize_phone, parse_id_number, validate_division_code, validate_grid_code


def test_it_accepts_the_design_documents_valid_id_number():
    parsed = parse_id_number("360426199101010071")
    assert (parsed.kind, parsed.birth_date.isoformat(), parsed.gender, parsed.warning) == ("resident18", "1991-01-01", "M", "")


def test_it_rejects_a_wrong_check_digit_in_chinese():
    with pytest.raises(ValidationError, match="校验位不正确"):
        parse_id_number("360426199101010072")


@pytest.mark.parametrize("raw", ["４１０１８４１９５００２０３００２ｘ", " 41018419500203002x\u200b", "41018419500203002X"])
def test_it_folds_full_width_lower_case_and_invisible_characters(raw):
    assert parse_id_number(raw).value == "41018419500203002X"


def test_it_accepts_legacy_15_digit_and_foreigners_numbers():
    legacy = parse_id_number("410184500203002")
    assert (legacy.kind, legacy.birth_date.isoformat()) == ("legacy15", "1950-02-03")
    assert parse_id_number("USA123456789012").kind == "foreigner"
    assert parse_id_number(valid_id_number("19900101", "911000")).kind == "foreigner"


def test_an_unknown_region_code_is_a_warning_not_a_rejection():
    parsed = parse_id_number(valid_id_number("19900101", "419999"))
    assert "不在号码库中" in parsed.warning


@pytest.mark.parametrize("raw", ["12345", "4101841950020300", "410184195013030021", "41018420990101001X"])
def test_it_rejects_garbage(raw):
    with pytest.raises(ValidationError):
        parse_id_number(raw)


@pytest.mark.parametrize("raw,expected", [("+86 138-0013-8000", "13800138000"), ("0371-6688 1234", "037166881234"),
                                          ("１３８００１３８０００", "13800138000")])
def test_phone_numbers_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected


def test_a_short_phone_number_is_refused():
    with pytest.raises(ValidationError, match="电话号码"):
        normalize_phone("1380013")


def test_codes_have_the_national_lengths():
    validate_division_code("410173101001")
    validate_grid_code("410173101001001")
    with pytest.raises(ValidationError):
        validate_division_code("41017310100")
    with pytest.raises(ValidationError):
        validate_grid_code("4101731010010011")


def test_masks_follow_the_design():
    assert mask_id_number("410184195002030021") == "410*************21"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_name("张三") == "张*"


@pytest.mark.parametrize("name,initials", [("单雪梅", "sxm"), ("曾国强", "zgq"), ("欧阳明", "oym"), ("李建国", "ljg")])
def test_pinyin_initials_read_surnames_as_surnames(name, initials):
    assert name_initials(name) == initials


def test_a_birth_date_after_today_is_refused_however_the_dates_were_cached():
    from datetime import date

    number = valid_id_number("20300101")
    with pytest.raises(ValidationError, match="出生日期无效"):
        parse_id_number(number)
    assert parse_id_number(number, today=date(2031, 1, 1)).birth_date == date(2030, 1, 1)
    with pytest.raises(ValidationError, match="出生日期无效"):
        parse_id_number(number, today=date(2029, 12, 31))  # the same date again, now from the cache


def test_a_legacy_number_is_keyed_as_the_18_digit_number_that_replaced_it():
    from lianhu.common.validators import id_key

    upgraded = id_key("410184500203002")
    assert upgraded[:17] == "41018419500203002" and parse_id_number(upgraded).kind == "resident18"  # check digit valid
    assert id_key(upgraded) == upgraded and id_key("ABC123456789012") == "ABC123456789012"  # a 2004 foreigner's card


def test_a_new_county_of_a_known_city_is_no_warning_an_unknown_city_is():
    from lianhu.common.testing import valid_id_number

    airport_zone = parse_id_number(valid_id_number(region="410173"))  # Zhengzhou's airport zone: newer than the table
    assert airport_zone.warning == ""
    nowhere = parse_id_number(valid_id_number(region="419873"))
    assert nowhere.warning == "行政区划代码 419873 不在号码库中（可能已调整），请核对"

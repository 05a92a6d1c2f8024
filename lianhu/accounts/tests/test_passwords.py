"""The password policy (等保 身份鉴别): 8 characters, three of four classes, not the username, not common."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from lianhu.accounts.models import User
from lianhu.accounts.passwords import PasswordPolicyValidator

pytestmark = pytest.mark.django_db


def refusals(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as e:
        return e.messages
    return []


@pytest.fixture
def minggang(db):
    return User(username="minggang", display_name="王明")


def test_a_username_as_its_own_password_is_refused_in_chinese(minggang):
    messages = refusals("minggang", minggang)
    assert "密码不能包含用户名" in messages
    assert any("大写字母、小写字母、数字、符号" in m for m in messages)


def test_the_username_is_found_whatever_the_case_and_wherever_it_stands(minggang):
    assert "密码不能包含用户名" in refusals("Xx#MingGang2026", minggang)
    assert "密码不能包含用户名" not in refusals("Xx#Ming2026gan", minggang)


@pytest.mark.parametrize("password,ok", [
    ("Ab1#", False),  # four classes, too short
    ("abcdefgh1", False),  # two classes
    ("ABCDEFGH#", False),
    ("Hx7kq2Lmz", True),  # lower, upper, digit
    ("hx7kq#2lmz", True),  # lower, digit, symbol
    ("HX-KQ#LMZ!q", True),  # upper, symbol, lower
    ("Lianhu@2026", True),
])
def test_at_least_eight_characters_of_three_of_the_four_classes(minggang, password, ok):
    assert (refusals(password, minggang) == []) is ok, refusals(password, minggang)


def test_a_password_shorter_than_eight_says_so():
    assert "密码至少需要 8 个字符" in refusals("Ab1#xyz")


def test_common_and_similar_passwords_are_refused_in_chinese(minggang):
    assert "这个密码太常见了" in refusals("Password1")
    assert refusals("Lvguoqian9!", User(username="lvguoqiang")) == ["密码与用户名太相似"]
    assert refusals("Lvguoqian9!", User(username="fenhoulv", display_name="Lv Guoqiang")) == ["密码与姓名太相似"]


def test_the_settings_hold_the_policy_and_its_help_is_chinese():
    from django.contrib.auth.password_validation import get_default_password_validators, password_validators_help_texts

    assert any(isinstance(v, PasswordPolicyValidator) for v in get_default_password_validators())
    helps = " ".join(password_validators_help_texts())
    assert "至少 8 个字符" in helps and "不能包含用户名" in helps and "常见" in helps

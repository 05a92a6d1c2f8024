"""The password policy (等保2.0 level 3, 身份鉴别), as Django password validators with Chinese messages.

Settings' AUTH_PASSWORD_VALIDATORS list them, so every form that sets a password (the change page, the
admin, `manage.py changepassword`) applies them. Django's own messages follow the browser's language;
these are always Chinese.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

CLASSES = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())  # lower, upper, digit, symbol


def character_classes(password: str) -> int:
    """How many of the four classes (lower case, upper case, digits, symbols) the password uses.

    Only ASCII letters and digits count: a Chinese character (a letter of no case) or a full-width digit
    is none of them; punctuation of any script is a symbol.
    """
    counted = [c for c in password if c.isascii() or not c.isalnum()]
    return sum(any(test(c) for c in counted) for test in CLASSES)


class PasswordPolicyValidator:
    """At least `min_length` characters, of `min_classes` of the four classes, not containing the username."""

    def __init__(self, min_length: int = 8, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        errors = []
        if len(password) < self.min_length:
            errors.append(ValidationError(f"密码至少需要 {self.min_length} 个字符", code="password_too_short"))
        if character_classes(password) < self.min_classes:
            errors.append(ValidationError(
                f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 种", code="password_too_simple"))
        username = getattr(user, "username", "") or ""
        if username and username.casefold() in password.casefold():
            errors.append(ValidationError("密码不能包含用户名", code="password_contains_username"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        return (f"至少 {self.min_length} 个字符，包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 种，"
                "不能包含用户名")


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    """Django's, comparing with the username and the name shown (display_name), in Chinese."""

    LABELS = {"username": "用户名", "display_name": "姓名", "first_name": "姓名", "last_name": "姓名",
              "email": "电子邮箱"}

    def __init__(self, user_attributes=("username", "display_name", "email"), max_similarity=0.7):
        super().__init__(user_attributes=user_attributes, max_similarity=max_similarity)

    def validate(self, password, user=None):
        # One attribute at a time, so the message can name it in Chinese whatever the request's language.
        for attribute in self.user_attributes:
            one = password_validation.UserAttributeSimilarityValidator([attribute], self.max_similarity)
            try:
                one.validate(password, user)
            except ValidationError:
                raise ValidationError(f"密码与{self.LABELS.get(attribute, attribute)}太相似",
                                      code="password_too_similar") from None

    def get_help_text(self) -> str:
        return "不能与用户名、姓名太相似"


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list of 20,000 common passwords, in Chinese."""

    def get_error_message(self) -> str:
        return "这个密码太常见了"

    def get_help_text(self) -> str:
        return "不能是常见密码"


# No 0/O, 1/l/I: a secretary reads the temporary password out to an elderly member over the phone.
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SYMBOLS = "#@%+=?"


def temporary_password(user=None, length: int = 10) -> str:
    """A random password meeting the policy, for a reset: each class at least once, in random order."""
    alphabet = _LOWER + _UPPER + _DIGITS
    while True:
        chars = [secrets.choice(_LOWER), secrets.choice(_UPPER), secrets.choice(_DIGITS), secrets.choice(_SYMBOLS)]
        chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        password = "".join(chars)
        try:
            password_validation.validate_password(password, user)
        except ValidationError:
            continue  # a username or a common word by chance: draw again
        return password


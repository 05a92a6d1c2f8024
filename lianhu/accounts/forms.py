from django import forms
from django.contrib.auth import forms as auth_forms

from .models import User
from .services import RECOVERY_CODE, TOTP_CODE, normalise_code


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form; a demo account outside the demo mode is told why, and its password never checked."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码不正确",
        "inactive": "该账号已停用",
        "demo_refused": "演示账号只在演示模式下可以登录",
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        user = User.objects.filter(username=username).first() if username else None
        if user is not None and user.demo_refused:
            raise forms.ValidationError(self.error_messages["demo_refused"], code="demo_refused")
        return super().clean()


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, the new one twice, the validators of settings), in Chinese, and the
    new password must differ from the old one (a forced change is not passed by typing it again)."""

    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        "password_incorrect": "原密码不正确",
        "password_mismatch": "两次输入的新密码不一致",
        "password_unchanged": "新密码不能与原密码相同",
    }

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("new_password1")
        # Only once the old password is known right: otherwise this would confirm a guess of it.
        if (password and not self.has_error("old_password") and not self.has_error("new_password2")
                and self.user.check_password(password)):
            self.add_error("new_password1", forms.ValidationError(self.error_messages["password_unchanged"],
                                                                  code="password_unchanged"))
        return cleaned


class SecondFactorForm(forms.Form):
    """The code asked after the password: his authenticator's 6 digits, or one of his recovery codes."""

    code = forms.CharField(
        label="验证码", max_length=20, error_messages={"required": "请输入验证码"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )
    recovery_allowed = True

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if TOTP_CODE.fullmatch(code) or (self.recovery_allowed and RECOVERY_CODE.fullmatch(code)):
            return code
        raise forms.ValidationError(
            "验证码格式不对：请输入手机验证器上的 6 位数字，或一个 8 位恢复码" if self.recovery_allowed
            else "验证码格式不对：请输入手机验证器上的 6 位数字", code="format")


class EnrolForm(SecondFactorForm):
    """Binding an authenticator: the 6 digits it shows now prove it holds the secret."""

    recovery_allowed = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(inputmode="numeric", maxlength="7")

from django import forms
from django.contrib.auth import forms as auth_forms

from .models import User


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

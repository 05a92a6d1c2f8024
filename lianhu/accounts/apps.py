from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lianhu.accounts"
    label = "accounts"

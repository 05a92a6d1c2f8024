"""Reset a user's second factor from the command line: the operators' way for the accounts nobody above
resets on a page (the zone's, a superuser's). Audited; he binds a new authenticator at his next login."""

from django.core.management.base import BaseCommand, CommandError

from lianhu.accounts.models import User
from lianhu.accounts.services import second_factor_reset


class Command(BaseCommand):
    help = "重置用户的双因素认证（解绑手机验证器、作废恢复码；下次登录时重新扫码绑定）"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户 {username} 不存在")
        second_factor_reset(actor=None, user=user)
        self.stdout.write(f"已重置 {user}（用户名 {username}）的双因素认证：下次登录时须重新扫码绑定手机验证器。")

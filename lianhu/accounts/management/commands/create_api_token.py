"""Issue an API token for a user; the token is printed once and only its hash is stored."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lianhu.accounts.models import ApiToken, User
from lianhu.accounts.selectors import office_id_of, zone_id_of
from lianhu.audit.services import audit_log


class Command(BaseCommand):
    help = "为用户签发接口令牌（只显示一次，库中仅保存其哈希）"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="令牌用途，例如“区大数据平台对接”")

    def handle(self, *args, username: str, name: str, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"用户 {username} 不存在") from None
        if not user.is_active:
            raise CommandError(f"用户 {username} 已停用，不能签发令牌")
        with transaction.atomic():
            token, key = ApiToken.issue(user=user, name=name)
            audit_log(actor=None, action="token", obj=user, office_id=office_id_of(user), zone_id=zone_id_of(user),
                      detail={"token_id": token.pk, "name": name, "prefix": token.prefix})
        self.stdout.write(key)
        self.stderr.write(f"已为 {user} 签发令牌“{name}”（前缀 {token.prefix}）。令牌只显示这一次，请妥善保存。")

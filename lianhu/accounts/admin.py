from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    raw_id_fields = ["zone", "office", "branch", "grid", "member"]
    filter_horizontal = ["advised_branches"]


@admin.register(User)
class LianhuUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "must_change_password", "password_changed_at"]
    fieldsets = UserAdmin.fieldsets + (
        ("联户", {"fields": ["display_name", "must_change_password", "password_changed_at", "is_demo"]}),
    )
    readonly_fields = ["password_changed_at", "is_demo"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.must_change_password = True  # whoever made the account knows its first password
        super().save_model(request, obj, form, change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]

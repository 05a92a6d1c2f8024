from django.contrib import admin

from .models import LiaisonLink, PartyMember


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "status", "capacity", "phone_masked"]
    list_filter = ["status", "branch__office"]
    search_fields = ["name", "name_initials"]
    raw_id_fields = ["branch", "grid", "user"]
    readonly_fields = ["id_number_masked", "phone_masked"]


@admin.register(LiaisonLink)
class LiaisonLinkAdmin(admin.ModelAdmin):
    """Read-only: links change through the services, which check capacity and write the audit log."""

    list_display = ["household", "member", "started_on", "ended_on", "end_reason"]
    raw_id_fields = ["household", "member"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

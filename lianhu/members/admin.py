from django.contrib import admin

from .models import LiaisonLink, LinkProposal, PartyMember


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "status", "capacity", "phone_masked"]
    list_filter = ["status", "branch__office"]
    search_fields = ["name", "name_initials"]
    raw_id_fields = ["branch", "grid", "user"]
    # What the services guard (capacity against load, exemption ending links, same-branch links) is
    # changed on the app's pages, never here, where it would bypass those checks and the audit log.
    readonly_fields = ["id_number_masked", "phone_masked", "branch", "status", "capacity", "exempt_reason",
                       "exempt_since", "exempt_approved_by"]


@admin.register(LiaisonLink)
class LiaisonLinkAdmin(admin.ModelAdmin):
    """Read-only: links change through the services, which check capacity and write the audit log."""

    list_display = ["household", "member", "started_on", "ended_on", "end_reason"]
    raw_id_fields = ["household", "member"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LinkProposal)
class LinkProposalAdmin(admin.ModelAdmin):
    """Read-only: proposals are computed, applied and discarded on the app's pages."""

    list_display = ["__str__", "status", "created_by", "created_at", "decided_at"]
    list_filter = ["status", "office"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

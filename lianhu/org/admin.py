from django.contrib import admin

from .models import Branch, Grid, Household, Office, Resident, Zone


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "zone"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "office"]
    list_filter = ["office", "kind"]
    search_fields = ["name", "code"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "branch"]
    list_filter = ["branch__office"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["code", "address", "branch", "grid", "last_visited_at"]
    list_filter = ["branch__office"]
    search_fields = ["code", "address"]
    raw_id_fields = ["grid"]
    readonly_fields = ["branch"]  # moving a household between branches goes through household_update


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    """Personal data shows masked here as everywhere; reveals go through the audited pages."""

    list_display = ["name", "household", "id_number_masked", "phone_masked"]
    search_fields = ["name", "name_initials"]
    raw_id_fields = ["household"]
    readonly_fields = ["id_number_masked", "phone_masked"]

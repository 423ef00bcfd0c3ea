from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Building, Organisation, RoleAssignment, Territory, User


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    change_list_template = "admin/core/change_list_import.html"
    list_display = ["name", "kind", "parent", "code", "oktmo"]
    list_filter = ["kind"]
    search_fields = ["name", "code", "oktmo"]
    autocomplete_fields = ["parent"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    change_list_template = "admin/core/change_list_import.html"
    list_display = ["name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "inn"]
    autocomplete_fields = ["parent", "territories"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    change_list_template = "admin/core/change_list_import.html"
    list_display = ["address", "territory", "kind", "management_company"]
    list_filter = ["kind"]
    search_fields = ["address"]
    autocomplete_fields = ["territory", "management_company"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    autocomplete_fields = ["organisation", "territory"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ["username", "last_name", "first_name", "email", "is_active", "roles"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("ЦУР", {"fields": ("middle_name", "phone")}))

    @admin.display(description="роли")
    def roles(self, user):
        return ", ".join(str(a) for a in user.assignments.all())

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("assignments__organisation", "assignments__territory")
        )

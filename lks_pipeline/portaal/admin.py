"""The admin for Inlichtingenbureau staff (rules 8.1): users of every gemeente, the audit log.

The admin site requires the second factor like every page, and logs in through the portal's
own two-step login. The audit log is read-only here, and in the database (models.AuditRegel).
"""

from functools import wraps

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from lks_pipeline.portaal.models import Aanlevering, AuditRegel, Gebruiker, Verborgen


class PortaalAdminSite(OTPAdminSite):
    """The admin behind the second factor, logging in through the portal's own login."""

    site_header = "Gemeenteportaal: functioneel beheer"
    site_title = "Gemeenteportaal"

    def admin_view(self, view, cacheable=False):
        """A logged-in user who is not IB staff gets 404 here, as on every page not theirs."""
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        """Anonymous: to the portal's login; logged in but not IB staff: 404."""
        if request.user.is_authenticated:
            raise Http404
        return redirect(reverse("portaal:inloggen"))


admin.site.__class__ = PortaalAdminSite


class GebruikerInline(admin.StackedInline):
    """Gemeente, role and machtigingen on the user's own admin page."""

    model = Gebruiker
    can_delete = False


class PortaalUserAdmin(UserAdmin):
    """Users of every gemeente, with their gemeente in the list."""

    inlines = [GebruikerInline]
    list_display = ["username", "email", "is_active", "is_staff", "gemeente"]

    @admin.display(description="gemeente")
    def gemeente(self, user):
        profile = getattr(user, "gemeentegebruiker", None)
        return profile.gemeentecode if profile else "Inlichtingenbureau"


admin.site.unregister(User)
admin.site.register(User, PortaalUserAdmin)


class AlleenLezen(admin.ModelAdmin):
    """A record to read and filter only: nobody adds, changes or deletes it in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditRegel)
class AuditRegelAdmin(AlleenLezen):
    """The audit log."""

    list_display = ["wanneer", "gebruiker", "gemeentecode", "actie", "object", "adres", "resultaat"]
    list_filter = ["actie", "resultaat", "gemeentecode"]
    search_fields = ["gebruiker", "object"]


@admin.register(Aanlevering)
class AanleveringAdmin(AlleenLezen):
    """Files gemeenten delivered through the portal, as checked on arrival."""

    list_display = ["wanneer", "gemeentecode", "bestand", "regels", "gequarantaineerd", "door"]
    list_filter = ["feed", "gemeentecode"]
    search_fields = ["bestand", "door"]


@admin.register(Verborgen)
class VerborgenAdmin(admin.ModelAdmin):
    """Which reports a gemeente hid from its list, by whom and when."""

    list_display = ["gemeentecode", "bestand", "door", "wanneer"]

"""The portal's own data: who belongs to which gemeente, hidden reports, the audit log.

Reports themselves are the pipeline's: the portal keeps no copy of them or of their records.
"""

from django.conf import settings
from django.db import models

from lks_pipeline.rapporten.signaalrapport import EINDE_ZW, REINTEGRATIE

DKD_AANLEVEREN = "DKD aanleveren"
# Machtiging (rules 8.1) -> the field that holds it.
MACHTIGINGEN = {
    REINTEGRATIE.name: "lks_re_integratie",
    EINDE_ZW.name: "lks_einde_zw",
    DKD_AANLEVEREN: "dkd_aanleveren",
}


class Gebruiker(models.Model):
    """A gemeente's portal user: one gemeente, a role, a machtiging per product (rules 8.1)."""

    class Rol(models.TextChoices):
        MEDEWERKER = "medewerker", "medewerker"
        BEHEERDER = "beheerder", "beheerder"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gemeentegebruiker"
    )
    gemeentecode = models.CharField(max_length=6)
    rol = models.CharField(max_length=10, choices=Rol.choices, default=Rol.MEDEWERKER)
    lks_re_integratie = models.BooleanField(REINTEGRATIE.name, default=False)
    lks_einde_zw = models.BooleanField(EINDE_ZW.name, default=False)
    dkd_aanleveren = models.BooleanField(DKD_AANLEVEREN, default=False)

    class Meta:
        verbose_name = "gemeentegebruiker"
        verbose_name_plural = "gemeentegebruikers"

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.gemeentecode}, {self.rol})"

    def heeft(self, machtiging: str) -> bool:
        return bool(getattr(self, MACHTIGINGEN[machtiging]))

    @property
    def machtigingen(self) -> list[str]:
        return [m for m in MACHTIGINGEN if self.heeft(m)]


class Verborgen(models.Model):
    """A report content a gemeente hid from its Ophalen list; the file and its record stay."""

    gemeentecode = models.CharField(max_length=6)
    bestand = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    door = models.CharField(max_length=150)
    wanneer = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gemeentecode", "bestand", "sha256"], name="verborgen_eenmaal"
            )
        ]
        verbose_name_plural = "verborgen rapporten"


class AuditRegel(models.Model):
    """One line of the append-only audit log (rules 8.3): never a BSN, never report content.

    The database refuses UPDATE and DELETE on this table (migration 0002), so not even the
    admin or a bug in the portal can change what was written.
    """

    wanneer = models.DateTimeField(auto_now_add=True, db_index=True)
    gebruiker = models.CharField(max_length=150, blank=True)
    gemeentecode = models.CharField(max_length=6, blank=True)
    actie = models.CharField(max_length=40)
    object = models.CharField(max_length=300, blank=True)
    adres = models.GenericIPAddressField(null=True)
    resultaat = models.CharField(max_length=40)

    class Meta:
        ordering = ["id"]
        verbose_name = "auditregel"
        verbose_name_plural = "auditlog"

    def __str__(self) -> str:
        return f"{self.wanneer:%Y-%m-%d %H:%M:%S} {self.gebruiker} {self.actie} {self.resultaat}"


class Aanlevering(models.Model):
    """A file a gemeente delivered through the portal, as checked when it arrived.

    The pipeline's own record (`leveringen`) says what became of it; this one says who
    delivered it and lets "Mijn aanleveringen" show it as *ontvangen* until the pipeline has.
    """

    gemeentecode = models.CharField(max_length=6)
    feed = models.CharField(max_length=20)
    bestand = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    grootte = models.BigIntegerField()
    regels = models.IntegerField()
    gequarantaineerd = models.IntegerField()
    vervangt = models.BooleanField(default=False)
    door = models.CharField(max_length=150)
    wanneer = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-wanneer", "-id"]
        verbose_name_plural = "aanleveringen"

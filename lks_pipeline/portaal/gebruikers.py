"""Creating portal users from the command line (rules 8.4): gemeente staff, IB staff, demo users.

Every account gets its second factor at once (a confirmed TOTP device): there is no account
without one, and its `otpauth://` URI is shown once, to the person who creates the account.
"""

import base64
import secrets
from dataclasses import dataclass

import segno
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import MinimumLengthValidator, validate_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from lks_pipeline.portaal.models import MACHTIGINGEN, Gebruiker
from lks_pipeline.referentie.data import gemeentecodes

# What IB staff may do in the admin: users, second factors, the audit log (read).
IB_RECHTEN = [
    "add_user", "change_user", "view_user",
    "add_gebruiker", "change_gebruiker", "view_gebruiker",
    "add_totpdevice", "change_totpdevice", "delete_totpdevice", "view_totpdevice",
    "view_auditregel", "view_verborgen", "view_aanlevering",
]  # fmt: skip


class MinimaleLengte(MinimumLengthValidator):
    """Django's minimum length, with its Dutch message (5.2's catalogue lacks this one)."""

    def get_error_message(self) -> str:
        return f"Dit wachtwoord is te kort. De minimale lengte is {self.min_length} tekens."


class Geweigerd(ValueError):
    """A user that cannot be created as asked; the message says why, in Dutch."""


@dataclass(frozen=True)
class Nieuw:
    """A created account: its name and the URI of its second factor."""

    naam: str
    otpauth: str


@transaction.atomic
def maak(
    naam: str,
    wachtwoord: str,
    gemeentecode: str | None,
    rol: str = Gebruiker.Rol.MEDEWERKER,
    machtigingen: list[str] | None = None,
    email: str = "",
) -> Nieuw:
    """Create a gemeente user (or IB staff, without gemeentecode) with its second factor."""
    model = get_user_model()
    if model.objects.filter(username=naam).exists():
        raise Geweigerd(f"gebruiker {naam!r} bestaat al")
    if gemeentecode is not None and gemeentecode not in gemeentecodes():
        raise Geweigerd(f"{gemeentecode!r} is geen gemeentecode uit de CBS-lijst")
    user = model(username=naam, email=email, is_staff=gemeentecode is None)
    try:
        validate_password(wachtwoord, user)
    except Exception as error:
        raise Geweigerd("wachtwoord geweigerd: " + " ".join(error.messages)) from None
    user.set_password(wachtwoord)
    user.save()
    if gemeentecode is None:
        user.user_permissions.set(Permission.objects.filter(codename__in=IB_RECHTEN))
    else:
        gekozen = MACHTIGINGEN if machtigingen is None else machtigingen
        Gebruiker.objects.create(
            user=user,
            gemeentecode=gemeentecode,
            rol=rol,
            **{veld: m in gekozen for m, veld in MACHTIGINGEN.items()},
        )
    return Nieuw(naam, _second_factor(user))


def _second_factor(user) -> str:
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device.config_url


@dataclass(frozen=True)
class Demo:
    """A demo account: shown once, with its password, for the demo inbox only."""

    naam: str
    gemeentecode: str
    wachtwoord: str
    otpauth: str


def demo(gemeenten: list[str]) -> list[Demo]:
    """(Re)create `demo-<gemeentecode>` beheerders with all machtigingen, and `demo-ib`."""
    accounts = []
    for code in [*gemeenten, None]:
        naam = f"demo-{code.lower()}" if code else "demo-ib"
        wachtwoord = secrets.token_urlsafe(12)
        get_user_model().objects.filter(username=naam).delete()
        reset(username=naam)
        nieuw = maak(naam, wachtwoord, code, rol=Gebruiker.Rol.BEHEERDER)
        accounts.append(Demo(naam, code or "IB", wachtwoord, nieuw.otpauth))
    return accounts


def nodig_uit(naam: str, email: str, gemeentecode: str, rol: str, machtigingen: list[str]):
    """A gemeente user without a password yet: it sets one through its activation link."""
    model = get_user_model()
    if model.objects.filter(username=naam).exists():
        raise Geweigerd(f"gebruiker {naam} bestaat al")
    user = model(username=naam, email=email)
    user.set_unusable_password()
    user.save()
    Gebruiker.objects.create(
        user=user,
        gemeentecode=gemeentecode,
        rol=rol,
        **{veld: m in machtigingen for m, veld in MACHTIGINGEN.items()},
    )
    return user


def wijzig(gebruiker: Gebruiker, rol: str, actief: bool, machtigingen: dict) -> None:
    """Role, machtigingen (by field name) and whether the account may log in."""
    gebruiker.rol = rol
    for veld in MACHTIGINGEN.values():
        setattr(gebruiker, veld, bool(machtigingen[veld]))
    gebruiker.save()
    gebruiker.user.is_active = actief
    gebruiker.user.save(update_fields=["is_active"])


def nieuwe_factor(user, naam: str) -> TOTPDevice:
    """The user's second factor waiting to be confirmed (activation, or a new phone)."""
    device = TOTPDevice.objects.filter(user=user, name=naam, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=naam, confirmed=False)


@transaction.atomic
def bevestig_factor(user, device: TOTPDevice) -> None:
    """Make `device` the user's one second factor; every other one stops working."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.name, device.confirmed = "authenticator", True
    device.save()


def sleutel(device: TOTPDevice) -> dict[str, str]:
    """The key of a factor to enroll: as text (`Sleutel`) and as a QR code (inline SVG)."""
    key = base64.b32encode(device.bin_key).decode()
    return {
        "sleutel": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
        "qr": segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR-code"),
    }

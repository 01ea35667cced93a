"""Gebruikersbeheer, activation and Persoonlijke instellingen (rules 8.1, 8.2, 8.5).

The activation e-mail goes through the notifications' channel: a real SMTP server on loopback
(aiosmtpd) and `.eml` files in the outbox; the new user then logs in for real, with its
password and a code of the factor it enrolled.
"""

import base64
import datetime as dt
import email
import re
import time
from email import policy

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from lks_pipeline.portaal.models import AuditRegel, Gebruiker
from lks_pipeline_tests.test_notificaties import SmtpServer
from lks_pipeline_tests.test_portaal import ALLE, EZ, RI, WACHTWOORD, gebruiker, ingelogd

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://portaal\.example\.nl/activeren/[^/\s]+/[^/\s]+/")
NIEUW = {"username": "marie", "email": "marie@gm0363.example.nl", "rol": "medewerker",
         "lks_einde_zw": "on"}  # fmt: skip


@pytest.fixture(autouse=True)
def root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    settings.ANALYSE_PATH = tmp_path / "lks_analyse.duckdb"
    settings.PORTAAL_URL = "http://portaal.example.nl/"
    settings.SMTP_HOST = ""
    settings.MAIL_FROM = "portaal@ib.example.nl"
    return tmp_path


def eml(root) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((root / "outbox").glob("*.eml"))
    ]


def activeer(link: str, wachtwoord: str = WACHTWOORD, herhaal: str | None = None) -> Client:
    client = Client()
    page = client.get(link).content.decode()
    sleutel = re.search(
        r'<code aria-labelledby="sleutel-label" id="sleutel">([A-Z2-7 ]+)</code>', page
    )[1]
    device = TOTPDevice.objects.get(user__username="marie", confirmed=False)
    assert sleutel.replace(" ", "") == base64.b32encode(device.bin_key).decode()
    response = client.post(link, {"new_password1": wachtwoord,
                                  "new_password2": herhaal or wachtwoord, "code": code_van(device)})  # fmt: skip
    return response


def code_van(device: TOTPDevice, verschuiving: int = 0) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    totp.time = totp.time + verschuiving * 30
    return f"{totp.token():06d}"


def test_a_beheerder_adds_a_user_who_activates_once_and_sees_only_its_gemeente(root):
    beheerder = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    assert beheerder.post("/gebruikers/toevoegen/", NIEUW)["Location"] == "/gebruikers/"
    [mail] = eml(root)
    assert mail["To"] == "marie@gm0363.example.nl"
    assert mail["Subject"] == "Activeer uw account voor het Gemeenteportaal LKS"
    body = mail.get_content()
    assert "anna heeft voor u een account gemaakt" in body
    assert "gemeente Amsterdam" in body
    link = LINK.search(body)[0]
    lijst = beheerder.get("/gebruikers/").content.decode()
    assert re.search(
        r"<td>marie</td>.*?<td>LKS einde zw</td>\s*<td>wacht op activatie</td>", lijst, re.S
    )
    response = activeer(link)
    assert response["Location"] == "/inloggen/"
    again = Client().get(link)
    assert again.status_code == 400
    assert "verlopen of al gebruikt" in again.content.decode()
    client = Client()
    client.post("/inloggen/", {"username": "marie", "password": WACHTWOORD})
    device = TOTPDevice.objects.get(user__username="marie")
    assert device.confirmed
    assert (
        client.post("/inloggen/code/", {"code": code_van(device, 1)})["Location"] == "/dashboard/"
    )
    assert "ORGANISATIE: Gemeente Amsterdam" in client.get("/dashboard/").content.decode()
    assert client.get("/ophalen/lks-einde-zw/").status_code == 200
    assert client.get("/ophalen/lks-re-integratie/").status_code == 404
    assert client.get("/gebruikers/").status_code == 404
    acties = list(AuditRegel.objects.values_list("gebruiker", "actie", "object", "resultaat"))
    assert acties[:2] == [("anna", "gebruiker toevoegen", "marie", "gelukt"),
                          ("marie", "activeren", "", "gelukt")]  # fmt: skip
    assert ("", "activeren", "", "ongeldige link") in acties
    assert not any(link.rsplit("/", 2)[1] in " ".join(a) for a in acties)  # no token in audit


def test_the_activation_mail_goes_over_real_smtp(root, settings):
    with SmtpServer() as smtp:
        settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_STARTTLS = (
            "127.0.0.1",
            smtp.port,
            False,
        )
        beheerder = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
        assert beheerder.post("/gebruikers/toevoegen/", NIEUW).status_code == 302
        [bericht] = smtp.postvak.berichten
    assert bericht["aan"] == ["marie@gm0363.example.nl"]
    assert bericht["van"] == "portaal@ib.example.nl"
    assert LINK.search(bericht["msg"].get_content())
    assert not (root / "outbox").exists()


def test_when_the_mail_cannot_be_sent_nothing_is_created(root, settings):
    settings.SMTP_HOST, settings.SMTP_PORT, settings.SMTP_STARTTLS = "127.0.0.1", 9, False
    beheerder = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    page = beheerder.post("/gebruikers/toevoegen/", NIEUW).content.decode()
    assert "De activatiemail kon niet worden verstuurd; er is niets aangemaakt." in page
    assert not User.objects.filter(username="marie").exists()
    assert AuditRegel.objects.get().resultaat == "mail mislukt"


def test_an_activation_link_expires_after_72_hours(root, settings, monkeypatch):
    beheerder = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    beheerder.post("/gebruikers/toevoegen/", NIEUW)
    link = LINK.search(eml(root)[0].get_content())[0]
    later = dt.datetime.now() + dt.timedelta(hours=72, seconds=1)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)  # the token's clock
    assert Client().get(link).status_code == 400
    monkeypatch.undo()
    assert Client().get(link).status_code == 200


def test_a_weak_or_mismatched_password_or_wrong_code_activates_nothing(root):
    beheerder = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    beheerder.post("/gebruikers/toevoegen/", NIEUW)
    link = LINK.search(eml(root)[0].get_content())[0]
    kort = activeer(link, "kort").content.decode()
    assert "Dit wachtwoord is te kort. De minimale lengte is 12 tekens." in kort, kort
    assert activeer(link, WACHTWOORD, "iets anders dan dat").status_code == 200
    assert not User.objects.get(username="marie").has_usable_password()
    assert Client().get(link).status_code == 200  # still usable


def test_a_beheerder_changes_role_and_machtigingen_and_deactivates(root):
    anna = gebruiker("anna", "GM0363", ALLE, rol="beheerder")
    kees = gebruiker("kees", "GM0363", (RI,))
    beheerder = ingelogd(anna)
    kees_client = ingelogd(kees)
    assert kees_client.get("/ophalen/lks-einde-zw/").status_code == 404
    form = {"rol": "beheerder", "actief": "on", "lks_einde_zw": "on"}
    assert beheerder.post("/gebruikers/kees/", form).status_code == 302
    profiel = Gebruiker.objects.get(user__username="kees")
    assert (profiel.rol, profiel.machtigingen) == ("beheerder", [EZ])
    assert kees_client.get("/ophalen/lks-einde-zw/").status_code == 200
    assert (
        beheerder.post("/gebruikers/kees/", {"rol": "beheerder", "lks_einde_zw": "on"}).status_code
        == 302
    )
    assert kees_client.get("/dashboard/")["Location"].startswith("/inloggen/")  # logged out
    assert list(AuditRegel.objects.filter(actie="gebruiker wijzigen").values_list("object", flat=True)) == [
        "kees (rol: medewerker -> beheerder; lks_re_integratie: True -> False; "
        "lks_einde_zw: False -> True)",
        "kees (actief: True -> False)",
    ]  # fmt: skip


def test_the_last_beheerder_cannot_be_demoted_or_deactivated(root):
    anna = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    for form in ({"rol": "medewerker", "actief": "on"}, {"rol": "beheerder"}):
        page = anna.post("/gebruikers/anna/", form).content.decode()
        assert "Dit is de laatste actieve beheerder van uw gemeente" in page
    profiel = Gebruiker.objects.get(user__username="anna")
    assert profiel.rol == "beheerder"
    assert profiel.user.is_active
    gebruiker("bert", "GM0363", ALLE, rol="beheerder")
    assert anna.post("/gebruikers/anna/", {"rol": "medewerker", "actief": "on"}).status_code == 302
    assert list(AuditRegel.objects.values_list("resultaat", flat=True)) == [
        "laatste beheerder", "laatste beheerder", "gelukt"]  # fmt: skip


def test_a_beheerder_never_touches_another_gemeentes_users(root):
    gebruiker("jan", "GM0599", ALLE, rol="beheerder")
    anna = ingelogd(gebruiker("anna", "GM0363", ALLE, rol="beheerder"))
    assert "jan" not in anna.get("/gebruikers/").content.decode()
    assert anna.get("/gebruikers/jan/").status_code == 404
    assert anna.post("/gebruikers/jan/", {"rol": "medewerker"}).status_code == 404
    assert anna.post("/gebruikers/jan/activatielink/").status_code == 404
    assert Gebruiker.objects.get(user__username="jan").rol == "beheerder"
    assert anna.post("/gebruikers/toevoegen/", {**NIEUW, "username": "jan"}).status_code == 200
    assert Gebruiker.objects.get(user__username="jan").gemeentecode == "GM0599"


def test_changing_the_password_needs_the_old_one(root):
    from lks_pipeline.portaal.gebruikers import maak

    maak("piet", WACHTWOORD, "GM0363")
    client = ingelogd(User.objects.get(username="piet"))
    nieuw = "een heel ander wachtwoord"
    fout = client.post("/persoonlijk/", {"form": "wachtwoord", "old_password": "niet het oude",
                       "new_password1": nieuw, "new_password2": nieuw})  # fmt: skip
    assert fout.status_code == 200
    assert User.objects.get(username="piet").check_password(WACHTWOORD)
    goed = client.post("/persoonlijk/", {"form": "wachtwoord", "old_password": WACHTWOORD,
                       "new_password1": nieuw, "new_password2": nieuw})  # fmt: skip
    assert goed.status_code == 302
    assert User.objects.get(username="piet").check_password(nieuw)
    page = client.get("/persoonlijk/").content.decode()
    assert "U bent medewerker voor gemeente Amsterdam" in page
    assert (
        "<strong>LKS re-integratie</strong>, <strong>LKS einde zw</strong>, <strong>DKD aanleveren</strong>"
        in page
    )
    assert list(AuditRegel.objects.values_list("actie", "resultaat")) == [
        ("wachtwoord wijzigen", "geweigerd"), ("wachtwoord wijzigen", "gelukt")]  # fmt: skip


def test_a_new_second_factor_needs_a_code_of_the_old_one(root):
    from lks_pipeline.portaal.gebruikers import maak

    maak("piet", WACHTWOORD, "GM0363")
    client = ingelogd(User.objects.get(username="piet"))
    client.get("/persoonlijk/")
    oud = TOTPDevice.objects.get(user__username="piet", confirmed=True)
    nieuw = TOTPDevice.objects.get(user__username="piet", confirmed=False)
    fout = client.post("/persoonlijk/", {"form": "factor", "huidige_code": code_van(nieuw),
                       "nieuwe_code": code_van(nieuw)})  # fmt: skip
    assert "De code is onjuist of verlopen." in fout.content.decode()
    time.sleep(1.1)  # django-otp throttles after a wrong code
    goed = client.post("/persoonlijk/", {"form": "factor", "huidige_code": code_van(oud),
                       "nieuwe_code": code_van(nieuw)})  # fmt: skip
    assert goed.status_code == 302
    assert list(TOTPDevice.objects.filter(user__username="piet").values_list("pk", "confirmed")) == [
        (nieuw.pk, True)]  # fmt: skip
    assert not TOTPDevice.objects.filter(pk=oud.pk).exists()
    login = Client()
    login.post("/inloggen/", {"username": "piet", "password": WACHTWOORD})
    assert login.post("/inloggen/code/", {"code": code_van(nieuw, 1)})["Location"] == "/dashboard/"

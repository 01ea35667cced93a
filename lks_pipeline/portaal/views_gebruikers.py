"""Gebruikersbeheer, activation and Persoonlijke instellingen (rules 8.1, 8.2, 8.5).

A beheerder manages the users of its own gemeente only: another gemeente's user answers 404,
like any page that is not the user's. A new user gets an activation link by e-mail; nothing is
created when the mail cannot be sent. The last active beheerder of a gemeente cannot be
demoted or deactivated, so a gemeente never locks itself out of its own Gebruikersbeheer.
"""

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from lks_pipeline.notificaties.transport import Undeliverable
from lks_pipeline.portaal import audit, gebruikers, post
from lks_pipeline.portaal.forms import (
    ActivatieForm,
    GebruikerForm,
    TweedeFactorForm,
    WachtwoordForm,
    WijzigForm,
)
from lks_pipeline.portaal.models import MACHTIGINGEN, Gebruiker
from lks_pipeline.portaal.views import context, gemeente_naam, gemeente_pagina, verified_device


def _beheerder(gebruiker) -> None:
    if gebruiker.rol != Gebruiker.Rol.BEHEERDER:
        raise Http404


@gemeente_pagina
def gebruikersbeheer(request, gebruiker):
    """The users of the beheerder's gemeente."""
    _beheerder(gebruiker)
    lijst = Gebruiker.objects.filter(gemeentecode=gebruiker.gemeentecode).select_related("user")
    return render(
        request,
        "portaal/gebruikers.html",
        context(gebruiker, gebruikers=lijst.order_by("user__username")),
    )


@require_http_methods(["GET", "POST"])
@gemeente_pagina
def gebruiker_toevoegen(request, gebruiker):
    """Gebruiker toevoegen: the account and its activation e-mail, or neither."""
    _beheerder(gebruiker)
    form = GebruikerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        naam = form.cleaned_data["username"]
        try:
            with transaction.atomic():
                nieuw = gebruikers.nodig_uit(
                    naam,
                    form.cleaned_data["email"],
                    gebruiker.gemeentecode,
                    form.cleaned_data["rol"],
                    [m for m, veld in MACHTIGINGEN.items() if form.cleaned_data[veld]],
                )
                _stuur_activatie(request, gebruiker, nieuw)
        except gebruikers.Geweigerd as geweigerd:
            form.add_error("username", str(geweigerd))
        except Undeliverable:
            form.add_error(None, "De activatiemail kon niet worden verstuurd; er is niets "
                           "aangemaakt. Probeer het later opnieuw.")  # fmt: skip
            audit.record(request, "gebruiker toevoegen", "mail mislukt", object=naam)
        else:
            audit.record(request, "gebruiker toevoegen", "gelukt", object=naam)
            messages.success(request, f"{naam} is toegevoegd; de activatielink is verstuurd.")
            return redirect("portaal:gebruikersbeheer")
    return render(request, "portaal/gebruiker.html", context(gebruiker, form=form, nieuw=True))


def _stuur_activatie(request, gebruiker, user) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    pad = reverse("portaal:activeren", args=[uid, token])
    link = settings.PORTAAL_URL.rstrip("/") + pad
    naam = gemeente_naam(gebruiker.gemeentecode)
    post.verstuur(post.activatie_bericht(user, naam, request.user.get_username(), link))


def _eigen(gebruiker, naam: str) -> Gebruiker:
    """A user of the beheerder's own gemeente, or 404."""
    try:
        return Gebruiker.objects.select_related("user").get(
            user__username=naam, gemeentecode=gebruiker.gemeentecode
        )
    except Gebruiker.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@gemeente_pagina
def gebruiker_wijzigen(request, gebruiker, naam):
    """Change a user's role, machtigingen, or deactivate it."""
    _beheerder(gebruiker)
    ander = _eigen(gebruiker, naam)
    initial = {"rol": ander.rol, "actief": ander.user.is_active}
    initial |= {veld: getattr(ander, veld) for veld in MACHTIGINGEN.values()}
    form = WijzigForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _laatste_beheerder(ander, data["rol"], data["actief"]):
            form.add_error(None, "Dit is de laatste actieve beheerder van uw gemeente: maak "
                           "eerst een ander beheerder.")  # fmt: skip
            audit.record(request, "gebruiker wijzigen", "laatste beheerder", object=naam)
        else:
            gebruikers.wijzig(ander, data["rol"], data["actief"], data)
            audit.record(request, "gebruiker wijzigen", "gelukt", object=_wat(naam, initial, data))
            messages.success(request, f"{naam} is gewijzigd.")
            return redirect("portaal:gebruikersbeheer")
    return render(
        request, "portaal/gebruiker.html", context(gebruiker, form=form, ander=ander, nieuw=False)
    )


def _wat(naam: str, oud: dict, nieuw: dict) -> str:
    """The audit's object: the user, and each changed field with its old and new value."""
    return f"{naam} ({'; '.join(audit.wijzigingen(oud, nieuw)) or 'ongewijzigd'})"


def _laatste_beheerder(ander: Gebruiker, rol: str, actief: bool) -> bool:
    """Whether this change would leave the gemeente without an active beheerder."""
    blijft = rol == Gebruiker.Rol.BEHEERDER and actief
    if blijft or ander.rol != Gebruiker.Rol.BEHEERDER or not ander.user.is_active:
        return False
    andere = Gebruiker.objects.filter(
        gemeentecode=ander.gemeentecode, rol=Gebruiker.Rol.BEHEERDER, user__is_active=True
    ).exclude(pk=ander.pk)
    return not andere.exists()


@require_POST
@gemeente_pagina
def activatielink(request, gebruiker, naam):
    """Send a new activation link to a user who has not activated yet."""
    _beheerder(gebruiker)
    ander = _eigen(gebruiker, naam)
    if ander.user.has_usable_password():
        raise Http404
    try:
        _stuur_activatie(request, gebruiker, ander.user)
    except Undeliverable:
        messages.error(request, "De activatiemail kon niet worden verstuurd.")
        audit.record(request, "activatielink", "mail mislukt", object=naam)
    else:
        messages.success(request, f"Een nieuwe activatielink is naar {naam} verstuurd.")
        audit.record(request, "activatielink", "gelukt", object=naam)
    return redirect("portaal:gebruikersbeheer")


def _activatie_user(uidb64: str, token: str):
    try:
        pk = int(urlsafe_base64_decode(uidb64))
        user = get_user_model().objects.get(pk=pk, is_active=True)
    except (ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def activeren(request, uidb64, token):
    """The activation link: a password and a second factor, once, within 72 hours."""
    user = _activatie_user(uidb64, token)
    if user is None or not hasattr(user, "gemeentegebruiker"):
        audit.record(request, "activeren", "ongeldige link", gebruiker="")
        tekst = "Deze activatielink is verlopen of al gebruikt. Vraag de beheerder van uw "
        tekst += "gemeente om een nieuwe."
        titel = "Link niet geldig"
        return render(request, "portaal/fout.html", {"titel": titel, "tekst": tekst}, status=400)
    device = gebruikers.nieuwe_factor(user, "activatie")
    form = ActivatieForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            form.save()
            gebruikers.bevestig_factor(user, device)
            audit.record(request, "activeren", "gelukt", gebruiker=user.get_username())
            messages.success(
                request, "Uw account is geactiveerd. Log in met uw wachtwoord en code."
            )
            return redirect("portaal:inloggen")
        form.add_error("code", "De code is onjuist of verlopen.")
    return render(request, "portaal/activeren.html", {"form": form, **gebruikers.sleutel(device)})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
@gemeente_pagina
def persoonlijk(request, gebruiker):
    """Persoonlijke instellingen: own password, own second factor."""
    device = gebruikers.nieuwe_factor(request.user, "nieuw")
    wachtwoord = WachtwoordForm(request.user, _post(request, "wachtwoord"))
    factor = TweedeFactorForm(_post(request, "factor"))
    if wachtwoord.is_bound and wachtwoord.is_valid():
        wachtwoord.save()
        auth.update_session_auth_hash(request, request.user)
        audit.record(request, "wachtwoord wijzigen", "gelukt")
        messages.success(request, "Uw wachtwoord is gewijzigd.")
        return redirect("portaal:persoonlijk")
    if factor.is_bound and factor.is_valid() and _nieuwe_factor(request, factor, device):
        return redirect("portaal:persoonlijk")
    if wachtwoord.is_bound and not wachtwoord.is_valid():
        audit.record(request, "wachtwoord wijzigen", "geweigerd")
    extra = {"wachtwoord": wachtwoord, "factor": factor, **gebruikers.sleutel(device)}
    return render(request, "portaal/persoonlijk.html", context(gebruiker, **extra))


def _post(request, form: str):
    return request.POST if request.method == "POST" and request.POST.get("form") == form else None


def _nieuwe_factor(request, form, device) -> bool:
    """Replace the second factor when both the current and the new code are right."""
    if verified_device(request.user, form.cleaned_data["huidige_code"]) is None:
        form.add_error("huidige_code", "De code is onjuist of verlopen.")
    elif not device.verify_token(form.cleaned_data["nieuwe_code"]):
        form.add_error("nieuwe_code", "De code is onjuist of verlopen.")
    else:
        gebruikers.bevestig_factor(request.user, device)
        otp_login(request, device)
        audit.record(request, "tweede factor wijzigen", "gelukt")
        messages.success(request, "Uw nieuwe tweede factor is actief; de oude werkt niet meer.")
        return True
    audit.record(request, "tweede factor wijzigen", "geweigerd")
    return False

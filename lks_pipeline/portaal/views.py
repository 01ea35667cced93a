"""The portal's pages (rules 8.2): Inloggen with a second factor, Dashboard, Ophalen.

Aanleveren and DKD instellingen are in `views_dkd`, Gebruikersbeheer, activation and
Persoonlijke instellingen in `views_gebruikers`; all use `gemeente_pagina` and `context`.

Every gemeente page goes through `gemeente_pagina`: a verified login of a gemeente user, and
the machtiging of the product when the page is a product's. Anything else a logged-in user asks
for answers 404, which the audit middleware records.
"""

import logging
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from lks_pipeline.portaal import audit, bronnen
from lks_pipeline.portaal.dashboard import verwachtingen
from lks_pipeline.portaal.forms import CodeForm, InlogForm
from lks_pipeline.portaal.models import Verborgen
from lks_pipeline.rapporten.signaalrapport import PRODUCTEN, sha256
from lks_pipeline.referentie.data import gemeentenamen

log = logging.getLogger(__name__)
PER_PAGINA = 20
PRODUCT_BY_SLUG = {p.slug: p for p in PRODUCTEN}
WACHTEND = "portaal_wachtend"


def gemeente_naam(gemeentecode: str) -> str:
    """The CBS name of a gemeente, as the header shows it."""
    return gemeentenamen().get(gemeentecode, gemeentecode)


def gemeente_pagina(view):
    """Only for a verified gemeente user; passes its `Gebruiker` and the product of `slug`."""

    @wraps(view)
    def wrapper(request, *args, slug=None, **kwargs):
        if not request.user.is_verified():
            return redirect_to_login(request.get_full_path())
        gebruiker = getattr(request.user, "gemeentegebruiker", None)
        if gebruiker is None:
            raise Http404
        if slug is not None:
            product = PRODUCT_BY_SLUG.get(slug)
            if product is None or not gebruiker.heeft(product.name):
                raise Http404
            kwargs["product"] = product
        return view(request, gebruiker, *args, **kwargs)

    return wrapper


def context(gebruiker, **extra) -> dict:
    """What every gemeente page shows: the user, the gemeente's name, the user's products."""
    return {
        "gebruiker": gebruiker,
        "gemeentenaam": gemeente_naam(gebruiker.gemeentecode),
        "producten": [p for p in PRODUCTEN if gebruiker.heeft(p.name)],
        **extra,
    }


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def inloggen(request):
    """Step one: user name and password (django-axes counts the failures)."""
    form = InlogForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        naam = form.cleaned_data["username"]
        user = auth.authenticate(request, username=naam, password=form.cleaned_data["password"])
        if user is not None and TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
            request.session.cycle_key()
            request.session[WACHTEND] = [user.pk, user.backend]
            return redirect("portaal:code")
        if not getattr(request, "axes_locked_out", False):
            audit.record(request, "inloggen", "mislukt", gebruiker=naam)
            form.add_error(None, "Gebruikersnaam of wachtwoord is onjuist.")
    return render(request, "portaal/inloggen.html", {"form": form})


@require_http_methods(["GET", "POST"])
def code(request):
    """Step two: the TOTP code of the user's second factor; only then is the user logged in."""
    wachtend = request.session.get(WACHTEND)
    if not wachtend:
        return redirect("portaal:inloggen")
    user = auth.get_user_model().objects.get(pk=wachtend[0])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = verified_device(user, form.cleaned_data["code"])
        if device is not None:
            auth.login(request, user, backend=wachtend[1])
            otp_login(request, device)
            audit.record(request, "inloggen", "gelukt")
            return redirect(
                "portaal:dashboard" if hasattr(user, "gemeentegebruiker") else "admin:index"
            )
        audit.record(request, "tweede factor", "mislukt", gebruiker=user.get_username())
        form.add_error("code", "De code is onjuist of verlopen.")
    return render(request, "portaal/code.html", {"form": form})


def verified_device(user, token: str):
    """The user's confirmed second factor that accepts `token`, or None."""
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


@require_POST
def uitloggen(request):
    """End the session (a POST, so no link or image can log someone out)."""
    if request.user.is_authenticated:
        audit.record(request, "uitloggen", "gelukt")
    auth.logout(request)
    messages.info(request, "U bent uitgelogd.")
    return redirect("portaal:inloggen")


def geblokkeerd(request, response, credentials):
    """django-axes' answer once a user name is locked: the login page with the reason."""
    naam = (credentials or {}).get("username", "")
    audit.record(request, "inloggen", "geblokkeerd", gebruiker=naam)
    melding = (
        "Dit account is na 5 mislukte pogingen 15 minuten geblokkeerd. Probeer het daarna opnieuw."
    )
    context = {"form": InlogForm(), "melding": melding}
    return render(request, "portaal/inloggen.html", context, status=429)


def csrf_geweigerd(request, reason=""):
    """A form sent without a valid CSRF token: refused (the audit middleware records it)."""
    return render(
        request,
        "portaal/fout.html",
        {
            "titel": "Verzoek geweigerd",
            "tekst": "Het formulier was verlopen of ongeldig. Laad de pagina opnieuw.",
        },
        status=403,
    )


@gemeente_pagina
def dashboard(request, gebruiker):
    """The gemeente's products, open aanleverfouten and expected deliveries."""
    pad = settings.ANALYSE_PATH
    stand = bronnen.stand(pad, gebruiker.gemeentecode)
    rijen = verwachtingen(
        stand, timezone.localdate(), settings.VERWIJSINDEX_MAX_DAGEN, settings.AANLEVER_MARGE_DAGEN
    )
    fouten = bronnen.aanleverfouten(pad, gebruiker.gemeentecode)
    return render(
        request,
        "portaal/dashboard.html",
        context(
            gebruiker,
            fouten=fouten,
            verwachtingen=rijen,
            niets_open=not fouten and not any(r.open for r in rijen),
        ),
    )


@gemeente_pagina
def ophalen_index(request, gebruiker):
    """Ophalen: a link per product the user holds a machtiging for."""
    return render(request, "portaal/ophalen_index.html", context(gebruiker))


@gemeente_pagina
def ophalen(request, gebruiker, product):
    """One product's reports, newest first, without the hidden ones, paginated."""
    verborgen = set(
        Verborgen.objects.filter(gemeentecode=gebruiker.gemeentecode).values_list(
            "bestand", "sha256"
        )
    )
    lijst = [
        r
        for r in bronnen.rapporten(settings.ANALYSE_PATH, gebruiker.gemeentecode, [product.name])
        if (r.bestand, r.sha256) not in verborgen
    ]
    pagina = Paginator(lijst, PER_PAGINA).get_page(request.GET.get("pagina"))
    return render(
        request, "portaal/ophalen.html", context(gebruiker, product=product, pagina=pagina)
    )


@gemeente_pagina
def download(request, gebruiker, product, titel):
    """The file of the pipeline's record, sent only when its bytes have the recorded sha256."""
    rapport = bronnen.rapport(settings.ANALYSE_PATH, gebruiker.gemeentecode, [product.name], titel)
    if rapport is None:
        raise Http404
    try:
        inhoud = (Path(settings.DATA_ROOT) / rapport.pad).read_bytes()
    except OSError:
        inhoud = None
    if inhoud is None or sha256(inhoud) != rapport.sha256:
        log.warning("Rapport %s wijkt af van zijn record: niet verzonden", rapport.bestand)
        audit.record(request, "download", "afwijkend bestand", object=rapport.bestand)
        tekst = (
            "Dit rapport wordt op dit moment bijgewerkt. Probeer het over enkele minuten opnieuw."
        )
        pagina = context(gebruiker, titel="Even geduld", tekst=tekst)
        response = render(request, "portaal/fout.html", pagina, status=503)
        response["Retry-After"] = "300"
        return response
    audit.record(request, "download", "gelukt", object=rapport.bestand)
    response = HttpResponse(inhoud, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{rapport.bestand}"'
    return response


@require_POST
@gemeente_pagina
def verbergen(request, gebruiker, product):
    """Verwijder geselecteerd: hide the selected reports of this gemeente and product."""
    gekozen = request.POST.getlist("geselecteerd")
    eigen = {
        r.bestand: r
        for r in bronnen.rapporten(settings.ANALYSE_PATH, gebruiker.gemeentecode, [product.name])
    }
    if not set(gekozen) <= set(eigen):  # a name that is not one of ours: refuse, change nothing
        raise Http404
    for rapport in (eigen[titel] for titel in gekozen):
        Verborgen.objects.get_or_create(
            gemeentecode=gebruiker.gemeentecode,
            bestand=rapport.bestand,
            sha256=rapport.sha256,
            defaults={"door": request.user.get_username()},
        )
        audit.record(request, "verbergen", "gelukt", object=rapport.bestand)
    if gekozen:
        messages.success(request, f"{len(gekozen)} rapport(en) verwijderd uit uw overzicht.")
    return redirect("portaal:ophalen", slug=product.slug)

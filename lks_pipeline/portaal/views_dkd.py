"""Aanleveren and DKD instellingen (rules 8.2): what a gemeente delivers, and how.

Both need the machtiging `DKD aanleveren` to change anything; without it Aanleveren answers 404
and DKD instellingen is shown read-only. Every upload (accepted or refused) and every change of
instellingen is audited, by file name and field, never by content.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lks_pipeline.ingest.inbox import parse_name
from lks_pipeline.portaal import aanleveren, audit, bronnen, instellingen
from lks_pipeline.portaal.forms import AanleverForm, InstellingenForm
from lks_pipeline.portaal.models import DKD_AANLEVEREN, Aanlevering
from lks_pipeline.portaal.views import context, gemeente_pagina

LIJST = 50  # rows of "Mijn aanleveringen"
SOORT_VAN_FEED = {s.feed: s.label for s in aanleveren.SOORTEN.values()}


@require_http_methods(["GET", "POST"])
@gemeente_pagina
def aanleveren_pagina(request, gebruiker):
    """Upload a verwijsindex or DKD verzamelbestand; see what the pipeline made of each."""
    if not gebruiker.heeft(DKD_AANLEVEREN):
        raise Http404
    form = AanleverForm(request.POST or None, request.FILES or None)
    controle = None
    if request.method == "POST":
        if getattr(request, aanleveren.TE_GROOT, False):
            mb = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
            form.add_error("bestand", f"Het bestand is groter dan {mb} MB en is niet ontvangen.")
            audit.record(request, "aanleveren", "te groot")
        elif form.is_valid():
            controle = _ontvang(request, gebruiker, form)
            if not controle.afgewezen:
                return redirect("portaal:aanleveren")
    return render(
        request,
        "portaal/aanleveren.html",
        context(gebruiker, form=form, controle=controle, rijen=mijn_aanleveringen(gebruiker)),
    )


def _ontvang(request, gebruiker, form) -> aanleveren.Controle:
    """Check the upload; place it in the inbox when the pipeline would read it."""
    soort = aanleveren.SOORTEN[form.cleaned_data["soort"]]
    controle = aanleveren.controleer(
        form.cleaned_data["bestand"], soort, gebruiker.gemeentecode, timezone.localdate()
    )
    if controle.afgewezen:
        audit.record(request, "aanleveren", "afgewezen", object=controle.bestand)
        return controle
    vervangt = aanleveren.plaats(controle, aanleveren.inbox())
    Aanlevering.objects.create(
        gemeentecode=gebruiker.gemeentecode,
        feed=soort.feed,
        bestand=controle.bestand,
        sha256=controle.sha256,
        grootte=controle.grootte,
        regels=controle.regels,
        gequarantaineerd=len(controle.quarantaine),
        vervangt=vervangt,
        door=request.user.get_username(),
    )
    audit.record(request, "aanleveren", "vervangen" if vervangt else "gelukt", controle.bestand)
    _meld(request, controle, vervangt)
    return controle


def _meld(request, controle: aanleveren.Controle, vervangt: bool) -> None:
    """The messages of an accepted file: rows, quarantine by reason and example, replacement."""
    tekst = f"{controle.bestand} is ontvangen: {controle.regels} regel(s) worden geladen"
    tekst += f", {len(controle.quarantaine)} in quarantaine."
    if vervangt:
        tekst += " Het vervangt het bestand dat u vandaag eerder aanleverde."
    messages.success(request, tekst)
    for reden, aantal in controle.redenen:
        messages.warning(request, f"Quarantaine: {aantal} regel(s): {reden}")
    for q in controle.voorbeelden:
        bsn = f", BSN {q.bsn_gemaskeerd}" if q.bsn_gemaskeerd else ""
        messages.info(request, f"Regel {q.regel}{bsn}: {q.reden}")


@dataclass(frozen=True)
class Rij:
    """One row of "Mijn aanleveringen"."""

    bestand: str
    soort: str
    leverdatum: dt.date | None
    status: str
    geladen: int | None
    quarantaine: int | None
    reden: str
    door: str


def mijn_aanleveringen(gebruiker) -> list[Rij]:
    """The pipeline's record of the gemeente's files, and uploads it has not read yet."""
    verwerkt = bronnen.leveringen(settings.ANALYSE_PATH, gebruiker.gemeentecode)
    uploads = list(Aanlevering.objects.filter(gemeentecode=gebruiker.gemeentecode)[:LIJST])
    door = {(a.bestand, a.sha256): a.door for a in uploads}
    bekend = {(v.bestand, v.sha256) for v in verwerkt}
    rijen, gezien = [], set()
    for a in uploads:  # newest first: an older upload under the same name was replaced
        if (a.bestand, a.sha256) in bekend:
            continue
        status = "vervangen" if a.bestand in gezien else "ontvangen"
        gezien.add(a.bestand)
        rijen.append(_rij(a.feed, a.bestand, status, None, None, "", a.door))
    for v in verwerkt:
        regels = (v.regels_geladen, v.regels_gequarantaineerd)
        rij = _rij(
            v.feed, v.bestand, v.status, *regels, v.reden or "", door.get((v.bestand, v.sha256), "")
        )
        rijen.append(rij)
    return rijen[:LIJST]


def _rij(feed, bestand, status, geladen, quarantaine, reden, door) -> Rij:
    parsed = parse_name(feed, bestand)
    leverdatum = None if isinstance(parsed, str) else parsed[0]
    return Rij(bestand, SOORT_VAN_FEED[feed], leverdatum, status, geladen, quarantaine, reden, door)


@require_http_methods(["GET", "POST"])
@gemeente_pagina
def dkd_instellingen(request, gebruiker):
    """The gemeente's DKD instellingen; saved as a new national snapshot in the inbox."""
    mag = gebruiker.heeft(DKD_AANLEVEREN)
    if request.method == "POST" and not mag:
        raise Http404
    code = gebruiker.gemeentecode
    lock = Path(settings.DATA_ROOT) / "portaal" / "dkd_instellingen.lock"
    huidig = instellingen.huidige(aanleveren.inbox(), settings.ANALYSE_PATH, code)
    form = InstellingenForm(
        request.POST or None,
        initial=vars(huidig) if huidig else None,
        gemeentecode=code,
        alleen_lezen=not mag,
    )
    if request.method == "POST" and form.is_valid():
        nieuw = form.instelling()
        try:
            oud = instellingen.sla_op(
                aanleveren.inbox(), settings.ANALYSE_PATH, lock, code, nieuw, timezone.localdate()
            )
        except instellingen.Geweigerd as geweigerd:
            form.add_error(None, str(geweigerd))
            audit.record(request, "instellingen", "geweigerd")
        else:
            _audit_wijzigingen(request, oud, nieuw)
            messages.success(request, "De DKD instellingen zijn opgeslagen.")
            for tekst in instellingen.waarschuwingen(nieuw):
                messages.warning(request, tekst)
            return redirect("portaal:dkd_instellingen")
    return render(
        request,
        "portaal/instellingen.html",
        context(gebruiker, form=form, mag_wijzigen=mag, huidig=huidig),
    )


def _audit_wijzigingen(request, oud, nieuw) -> None:
    """One audit line per changed field, with the old and the new value."""
    for tekst in audit.wijzigingen(vars(oud) if oud else {}, vars(nieuw)):
        audit.record(request, "instellingen", "gewijzigd", object=tekst)

"""The audit log (rules 8.3): who did what, for which gemeente, when, from where.

Every login (success and failure), logout, download, hide and refused request is one
`AuditRegel`. What a request names is masked first (`privacy.mask`): it may hold a BSN.
"""

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpRequest

from lks_pipeline.portaal.models import AuditRegel
from lks_pipeline.portaal.privacy import mask


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind the TLS proxy (LKS_PORTAAL_HTTPS=1) the address it forwarded."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.HTTPS and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def record(
    request: HttpRequest,
    actie: str,
    resultaat: str,
    object: str = "",
    gebruiker: str | None = None,
) -> None:
    """Append one line; `gebruiker` defaults to the logged-in user (or the one half logged in)."""
    user = getattr(request, "user", None)
    if gebruiker is None:
        gebruiker = user.get_username() if user is not None and user.is_authenticated else ""
    profile = getattr(user, "gemeentegebruiker", None) if user is not None else None
    address = client_address(request)
    AuditRegel.objects.create(
        gebruiker=mask(gebruiker)[:150],
        gemeentecode=profile.gemeentecode if profile else "",
        actie=actie,
        object=mask(object)[:300],
        adres=address or None,
        resultaat=resultaat,
    )


def wijzigingen(oud: Mapping, nieuw: Mapping) -> list[str]:
    """`veld: oud -> nieuw` for each field of `nieuw` whose value differs from `oud`'s.

    Empty values read `(leeg)`; a long one (a URL) is shortened in the middle, so a line fits
    the audit's object column.
    """
    return [
        f"{veld}: {_kort(oud.get(veld))} -> {_kort(waarde)}"
        for veld, waarde in nieuw.items()
        if oud.get(veld) != waarde
    ]


def _kort(waarde) -> str:
    tekst = "(leeg)" if waarde is None or waarde == "" else str(waarde)
    return tekst if len(tekst) <= 140 else tekst[:68] + "…" + tekst[-68:]

"""`lks-pipeline generate`: a synthetic, realistic inbox (DESIGN 7) at any scale up to national.

The same seed and options give the same bytes: numpy's and Python's generators and Faker (nl_NL)
are seeded, nothing iterates a set or reads the clock, and dates count back from `--tot`. Files
are written as they are generated (the DKD XML Client by Client), so memory is bounded by the
person table, never by a file.

Bulk data is drawn at random; on top of it a fixed set of *scenario* persons guarantees that every
edge case of the spec is present at any scale, the demo included (see `SCENARIOS` in the README):
invalid and leading-zero BSNs, a BSN known by two gemeenten, a v0100 delivery, LKS periods inside
and outside the two-year window, doelgroepen inside and outside the population, EINDE_ZW on both
sides of 2022-01-01 and without einddatum, one uwv_kenmerk on two days, an unroutable event, and
names and employers that start with a formula character or hold quotes and `;`. The deliberate bad
rows are counted in `Gegenereerd.quarantaine` so tests can assert the exact quarantine.
"""

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from faker import Faker

from lks_pipeline.feeds.dkd import HUIDIGE_BERICHTVERSIE
from lks_pipeline.feeds.schemas import (
    INSTELLINGEN_KOLOMMEN,
    UWV_KOLOMMEN,
    VERWIJSINDEX_KOLOMMEN,
)
from lks_pipeline.reference_data import gemeenten

OUDE_BERICHTVERSIE = "GSDDossierReintegratie-v0100"
POPULATIE_CODES = ("01", "01", "01", "02", "05", "06", "20", "22", "23", "24", "40", "54", "55")
ANDERE_CODES = ("03", "07", "11", "30", "41")
CLUSTERS = ("Uitkeringen", "Debiteuren", "Bijzondere bijstand", "Reintegratie")
INZET_SOORTEN = ("Jobcoaching", "Werkfit-traject", "Scholing", "Proefplaatsing")
VOORVOEGSELS = ("van", "de", "van der", "van den", "ter", "van de", "den")
LASTIGE_ACHTERNAMEN = ("=Bakker", "+Smit", "-de Wit", "@Visser", 'O"Neill', "Brontë-Öztürk")
LASTIGE_WERKGEVERS = (
    'Bakkerij "De Zoete Inval"; filiaal Noord',
    "=SOM(A1:A9) Detachering B.V.",
    "+31 Schoonmaak & Co",
    "-Zorg Thuis B.V.",
    "@Work Uitzendbureau",
    "Café 't Hoekje; Horeca B.V.",
)
# Big gemeenten first, so that every scale has them and the demo looks like the real country.
VOORKEUR = ("GM0363", "GM0599", "GM0518", "GM0344", "GM0772", "GM0014", "GM0153", "GM0034")


@dataclass(frozen=True)
class Schaal:
    """How much to generate. `verwijsindex_rijen` and `dkd_clienten` are national totals."""

    gemeenten: int
    verwijsindex_rijen: int
    dkd_clienten: int
    events_per_dag: int
    dagen: int


SCHALEN = {
    "demo": Schaal(
        gemeenten=8, verwijsindex_rijen=400, dkd_clienten=160, events_per_dag=24, dagen=5
    ),
    "klein": Schaal(
        gemeenten=40, verwijsindex_rijen=20_000, dkd_clienten=4_000, events_per_dag=500, dagen=7
    ),
    "national": Schaal(
        gemeenten=342,
        verwijsindex_rijen=3_000_000,
        dkd_clienten=400_000,
        events_per_dag=100_000,
        dagen=5,
    ),
}


@dataclass
class Gegenereerd:
    """What was written: file count, and the deliberate bad rows per feed (exact)."""

    bestanden: list[Path] = field(default_factory=list)
    quarantaine: dict[str, int] = field(
        default_factory=lambda: {"uwv": 0, "verwijsindex": 0, "dkd_reintegratie": 0}
    )


@dataclass
class Client:
    """DKD data of one person at one gemeente."""

    bsn: str
    doelgroepen: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    inzetten: list[tuple[str, dt.date, dt.date | None, tuple | None]] = field(default_factory=list)
    fout: str | None = None  # a deliberate error, written into the XML


@dataclass
class Gemeente:
    """One gemeente's deliveries: verwijsindex, DKD clients, and its role in the scenarios."""

    code: str
    rol: str = "normaal"
    bsns: list[str] = field(default_factory=list)  # verwijsindex (unique BSNs)
    clienten: list[Client] = field(default_factory=list)
    vi_fouten: list[str] = field(default_factory=list)  # invalid BSNs written into its verwijsindex


def bsns(rng: np.random.Generator, n: int, exclude: set[str] | None = None) -> list[str]:
    """`n` distinct valid BSNs (about one in ten starts with 0), in a seeded order."""
    exclude = exclude or set()
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])
    found: list[str] = []
    seen = set(exclude)
    while len(found) < n:
        want = int((n - len(found)) * 1.25) + 16
        prefix = rng.integers(1, 100_000_000, size=want)
        digits = (prefix[:, None] // 10 ** np.arange(7, -1, -1)) % 10
        check = (digits * weights).sum(axis=1) % 11
        for p, c in zip(prefix[check != 10], check[check != 10], strict=True):
            value = f"{p:08d}{c}"
            if value not in seen:
                seen.add(value)
                found.append(value)
    return found[:n]


def _ongeldig(bsn: str) -> str:
    """The same digits with a wrong check digit: fails the elfproef."""
    return bsn[:8] + str((int(bsn[8]) + 1) % 10)


class _Wereld:
    """The synthetic country: gemeenten with their verwijsindex and DKD clients, and persons."""

    def __init__(self, schaal: Schaal, seed: int, tot: dt.date):
        self.schaal, self.tot = schaal, tot
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)
        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        self.achternamen = [fake.last_name() for _ in range(1500)]
        self.voornamen = [fake.first_name() for _ in range(400)]
        self.werkgevers = [fake.company() for _ in range(600)]
        self.gemeenten = self._kies_gemeenten()
        self._vul()

    def _kies_gemeenten(self) -> list[Gemeente]:
        codes = [g["gemeentecode"] for g in gemeenten()]
        rest = [c for c in codes if c not in VOORKEUR]
        self.random.shuffle(rest)
        gekozen = [*VOORKEUR, *rest][: self.schaal.gemeenten]
        rollen = [
            "normaal",
            "lks_zonder_loonwaarde",
            "webservice",
            "v0100",
            "geen_dkd",
            "twee_snapshots",
            "zonder_instellingen",
            "zonder_email",
        ]
        return [
            Gemeente(code, rollen[i] if i < len(rollen) else "normaal")
            for i, code in enumerate(gekozen)
        ]

    def _vul(self) -> None:
        n = len(self.gemeenten)
        weights = 1 / np.arange(1, n + 1) ** 0.8
        weights /= weights.sum()
        vi_per = np.maximum(5, (weights * self.schaal.verwijsindex_rijen / 1.15).astype(int))
        dkd_per = np.maximum(3, (weights * self.schaal.dkd_clienten).astype(int))
        pool = bsns(self.rng, int(vi_per.sum()) + int(dkd_per.sum()) // 20 + 400)
        self.onbekend = pool[-300:]  # valid BSNs no gemeente knows
        start = 0
        for gemeente, count, clients in zip(self.gemeenten, vi_per, dkd_per, strict=True):
            gemeente.bsns = pool[start : start + count]
            start += count
            if gemeente.rol in ("geen_dkd",):
                continue
            known = gemeente.bsns[: min(clients, count)]
            only_dkd = pool[start : start + max(1, clients // 20)]
            start += len(only_dkd)
            gemeente.clienten = [self._client(b, gemeente) for b in [*known, *only_dkd]]
        self.dkd_only = {g.code: g.clienten[-1].bsn for g in self.gemeenten if g.clienten}

    def datum(self, begin: dt.date, end: dt.date) -> dt.date:
        return begin + dt.timedelta(days=int(self.rng.integers(0, (end - begin).days + 1)))

    def _client(self, bsn: str, gemeente: Gemeente) -> Client:
        r = self.random.random()
        client = Client(bsn)
        if r < 0.85:
            begin = self.datum(dt.date(2016, 1, 1), dt.date(2024, 12, 31))
            client.doelgroepen.append((self.random.choice(POPULATIE_CODES), begin, None))
        elif r < 0.95:
            begin = self.datum(dt.date(2016, 1, 1), dt.date(2024, 12, 31))
            client.doelgroepen.append((self.random.choice(ANDERE_CODES), begin, None))
        if self.random.random() < 0.85:
            begin = self.datum(dt.date(2017, 1, 1), self.tot - dt.timedelta(days=60))
            einde = None
            if self.random.random() < 0.4:
                einde = self.datum(begin, min(begin + dt.timedelta(days=900), self.tot))
            with_pct = gemeente.rol not in ("v0100",) and (
                self.random.random() < (0.5 if gemeente.rol == "lks_zonder_loonwaarde" else 0.92)
            )
            pct = f"{self.random.choice(range(20, 95, 5))}.0" if with_pct else None
            lhn = f"{self.random.randrange(10**8, 10**9)}L0{self.random.randrange(1, 10)}"
            client.inzetten.append(("Loonkostensubsidie", begin, einde, (begin, einde, pct, lhn)))
        elif self.random.random() < 0.7:
            begin = self.datum(dt.date(2019, 1, 1), self.tot - dt.timedelta(days=30))
            client.inzetten.append((self.random.choice(INZET_SOORTEN), begin, None, None))
        return client

    def berichtversie(self, gemeente: Gemeente) -> str:
        return OUDE_BERICHTVERSIE if gemeente.rol == "v0100" else HUIDIGE_BERICHTVERSIE


def _scenarios(wereld: _Wereld) -> list[dict]:
    """Fixed persons and events that make every spec case present, whatever the scale.

    Returns event rows (without uwv_kenmerk/dag), each with a `dag` index (0 = first UWV day).
    Also plants the matching verwijsindex and DKD data, and the deliberate bad rows.
    """
    g = {gm.rol: gm for gm in wereld.gemeenten}
    normaal, tweede = g["normaal"], g["lks_zonder_loonwaarde"]
    tot = wereld.tot
    extra = bsns(wereld.rng, 12, exclude=set().union(*(set(x.bsns) for x in wereld.gemeenten)))

    def persoon(bsn: str, gemeente: Gemeente, client: Client | None = None) -> str:
        gemeente.bsns.append(bsn)
        if client is not None:
            gemeente.clienten.append(client)
        return bsn

    peil = tot - dt.timedelta(days=20)
    lks_in = Client(
        extra[0],
        [("01", dt.date(2020, 1, 1), None)],
        [
            (
                "Loonkostensubsidie",
                dt.date(2023, 1, 1),
                None,
                (dt.date(2023, 1, 1), None, "55.0", "123456789L01"),
            )
        ],
    )
    lks_uit = Client(
        extra[1],
        [("05", dt.date(2016, 1, 1), None)],
        [
            (
                "Loonkostensubsidie",
                dt.date(2017, 1, 1),
                dt.date(2019, 12, 31),
                (dt.date(2017, 1, 1), dt.date(2019, 12, 31), "40.0", None),
            )
        ],
    )
    buiten = Client(
        extra[2],
        [("30", dt.date(2019, 1, 1), None)],
        [
            (
                "Loonkostensubsidie",
                dt.date(2022, 1, 1),
                None,
                (dt.date(2022, 1, 1), None, "60.0", None),
            )
        ],
    )
    zonder_pct = Client(
        extra[3],
        [("01", dt.date(2018, 1, 1), None)],
        [
            (
                "Loonkostensubsidie",
                dt.date(2024, 6, 1),
                None,
                (dt.date(2024, 6, 1), None, None, None),
            )
        ],
    )
    gedeeld = extra[4]
    persoon(extra[0], normaal, lks_in)
    persoon(extra[1], normaal, lks_uit)
    persoon(extra[2], normaal, buiten)
    persoon(extra[3], tweede, zonder_pct)
    persoon(
        gedeeld,
        normaal,
        Client(
            gedeeld,
            [("01", dt.date(2019, 1, 1), None)],
            [
                (
                    "Loonkostensubsidie",
                    dt.date(2024, 1, 1),
                    None,
                    (dt.date(2024, 1, 1), None, "70.0", None),
                )
            ],
        ),
    )
    persoon(gedeeld, g["geen_dkd"])  # the same BSN, only in another gemeente's verwijsindex
    leading_zero = "010000008"
    persoon(
        leading_zero,
        normaal,
        Client(
            leading_zero,
            [("02", dt.date(2021, 3, 1), None)],
            [("Scholing", dt.date(2025, 2, 1), None, None)],
        ),
    )
    v0100 = g["v0100"].clienten[0].bsn
    webservice_bsn = g["webservice"].bsns[0]
    dkd_only = wereld.dkd_only[normaal.code]

    # Deliberate bad rows: 2 in verwijsindexen, 3 DKD Clients.
    normaal.vi_fouten.append(_ongeldig(extra[5]))
    g["twee_snapshots"].vi_fouten.append("12345678")
    normaal.clienten.append(Client(_ongeldig(extra[6]), fout="bsn"))
    normaal.clienten.append(Client(extra[7], fout="einde_voor_begin"))
    tweede.clienten.append(Client(extra[8], fout="percentage"))

    zud = {
        "berichttype": "ZIEK_UIT_DIENST",
        "datum_eerste_ao_dag": peil - dt.timedelta(days=30),
        "datum_einde_arbeidsverhouding": peil,
    }
    ezw = {
        "berichttype": "EINDE_ZW",
        "begindatum_zw_uitkering": dt.date(2021, 9, 13),
        "einddatum_zw_uitkering": tot - dt.timedelta(days=3),
    }
    return [
        {"dag": 0, "bsn": extra[0], **zud, "naam": 0},
        {"dag": 0, "bsn": extra[1], **ezw, "naam": 1},
        {"dag": 0, "bsn": extra[2], **ezw, "naam": 2},
        {"dag": 1, "bsn": extra[3], **ezw, "einddatum_zw_uitkering": None, "naam": 3},
        {"dag": 1, "bsn": gedeeld, **zud, "naam": 4},
        {"dag": 1, "bsn": leading_zero, **ezw, "naam": 5},
        {"dag": 2, "bsn": v0100, **ezw, "begindatum_zw_uitkering": dt.date(2022, 1, 1)},
        {"dag": 2, "bsn": webservice_bsn, **zud},
        {"dag": 2, "bsn": dkd_only, **ezw, "begindatum_zw_uitkering": dt.date(2021, 12, 31)},
        {"dag": 3, "bsn": wereld.onbekend[0], **zud},
        {"dag": 0, "bsn": extra[9], **zud, "herhaal_op": 2},
        # deliberate bad rows (4): invalid BSN, missing achternaam, impossible date, end < begin
        {"dag": 0, "bsn": _ongeldig(extra[10]), **zud, "fout": True},
        {"dag": 1, "bsn": extra[11], **ezw, "achternaam": None, "fout": True},
        {"dag": 2, "bsn": extra[0], **zud, "datum_eerste_ao_dag": "2021-02-30", "fout": True},
        {
            "dag": 3,
            "bsn": extra[1],
            **ezw,
            "einddatum_zw_uitkering": dt.date(2021, 1, 1),
            "fout": True,
        },
    ]


def genereer(uit: Path, schaal: Schaal, seed: int, tot: dt.date) -> Gegenereerd:
    """Write a complete inbox under `uit` (inbox/uwv, inbox/verwijsindex, inbox/dkd)."""
    if schaal.gemeenten < 8 or schaal.dagen < 4:
        raise ValueError("minstens 8 gemeenten en 4 dagen: anders passen niet alle scenario's")
    wereld = _Wereld(schaal, seed, tot)
    scenarios = _scenarios(wereld)
    resultaat = Gegenereerd()
    for folder in ("uwv", "verwijsindex", "dkd"):
        (uit / folder).mkdir(parents=True, exist_ok=True)
    _schrijf_verwijsindexen(wereld, uit, resultaat)
    _schrijf_dkd(wereld, uit, resultaat)
    _schrijf_instellingen(wereld, uit, resultaat)
    _schrijf_uwv(wereld, scenarios, uit, resultaat)
    return resultaat


def _csv_writer(f):
    return csv.writer(f, delimiter=";", quotechar='"', lineterminator="\n")


def _schrijf_verwijsindexen(wereld: _Wereld, uit: Path, resultaat: Gegenereerd) -> None:
    for i, gemeente in enumerate(wereld.gemeenten):
        datum = wereld.tot - dt.timedelta(days=i % 7)
        snapshots = [(datum, gemeente.bsns)]
        if gemeente.rol == "twee_snapshots":
            snapshots.insert(0, (datum - dt.timedelta(days=14), gemeente.bsns[::2]))
        for snapshot_datum, bsn_lijst in snapshots:
            path = (
                uit / "verwijsindex" / f"verwijsindex_{gemeente.code}_{snapshot_datum:%Y%m%d}.csv"
            )
            clusters = wereld.rng.integers(0, len(CLUSTERS), size=len(bsn_lijst))
            tweede = wereld.rng.random(len(bsn_lijst)) < 0.15
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = _csv_writer(f)
                writer.writerow(VERWIJSINDEX_KOLOMMEN)
                for bsn, c, dubbel in zip(bsn_lijst, clusters, tweede, strict=True):
                    writer.writerow((bsn, CLUSTERS[c]))
                    if dubbel:
                        writer.writerow((bsn, "Aanvraag uitkeringen"))
                if snapshot_datum == datum:
                    for fout in gemeente.vi_fouten:
                        writer.writerow((fout, "Uitkeringen"))
                        resultaat.quarantaine["verwijsindex"] += 1
            resultaat.bestanden.append(path)


def _periode(begin: dt.date, einde: dt.date | None) -> str:
    tekst = f"<Begindatum>{begin.isoformat()}</Begindatum>"
    return tekst + (f"<Einddatum>{einde.isoformat()}</Einddatum>" if einde else "")


def _client_xml(client: Client, versie: str) -> str:
    if client.fout == "bsn":
        return f"  <Client><BSN>{client.bsn}</BSN></Client>\n"
    if client.fout == "einde_voor_begin":
        return (
            f"  <Client><BSN>{client.bsn}</BSN><Doelgroep><Code>01</Code>"
            "<Begindatum>2024-05-01</Begindatum><Einddatum>2023-05-01</Einddatum>"
            "</Doelgroep></Client>\n"
        )
    if client.fout == "percentage":
        return (
            f"  <Client><BSN>{client.bsn}</BSN><ReintegratieInzet><Soort>Loonkostensubsidie</Soort>"
            "<Begindatum>2024-01-01</Begindatum><Loonkostensubsidie><Begindatum>2024-01-01"
            "</Begindatum><PercentageLoonwaarde>120.0</PercentageLoonwaarde>"
            "</Loonkostensubsidie></ReintegratieInzet></Client>\n"
        )
    parts = [f"  <Client>\n    <BSN>{client.bsn}</BSN>\n"]
    for code, begin, einde in client.doelgroepen:
        parts.append(f"    <Doelgroep><Code>{code}</Code>{_periode(begin, einde)}</Doelgroep>\n")
    for soort, begin, einde, lks in client.inzetten:
        parts.append(
            f"    <ReintegratieInzet><Soort>{escape(soort)}</Soort>{_periode(begin, einde)}"
        )
        if lks is not None:
            lks_begin, lks_einde, pct, lhn = lks
            parts.append(f"<Loonkostensubsidie>{_periode(lks_begin, lks_einde)}")
            if pct is not None and versie == HUIDIGE_BERICHTVERSIE:
                parts.append(f"<PercentageLoonwaarde>{pct}</PercentageLoonwaarde>")
            if lhn is not None:
                parts.append(f"<LoonheffingennummerWerkgever>{lhn}</LoonheffingennummerWerkgever>")
            parts.append("</Loonkostensubsidie>")
        parts.append("</ReintegratieInzet>\n")
    parts.append("  </Client>\n")
    return "".join(parts)


def _schrijf_dkd(wereld: _Wereld, uit: Path, resultaat: Gegenereerd) -> None:
    for i, gemeente in enumerate(wereld.gemeenten):
        if gemeente.rol in ("webservice", "geen_dkd"):
            continue
        datum = wereld.tot - dt.timedelta(days=(i + 3) % 7)
        versie = wereld.berichtversie(gemeente)
        path = uit / "dkd" / f"dkd_reintegratie_{gemeente.code}_{datum:%Y%m%d}.xml"
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.write(
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<GSDDossierReintegratie xmlns="urn:lks:dkd:{versie}">\n'
                f"  <Stuurgegevens><Gemeentecode>{gemeente.code}</Gemeentecode>"
                f"<Aanmaakdatum>{datum.isoformat()}</Aanmaakdatum></Stuurgegevens>\n"
            )
            for client in gemeente.clienten:
                f.write(_client_xml(client, versie))
                if client.fout:
                    resultaat.quarantaine["dkd_reintegratie"] += 1
            f.write("</GSDDossierReintegratie>\n")
        resultaat.bestanden.append(path)


def _schrijf_instellingen(wereld: _Wereld, uit: Path, resultaat: Gegenereerd) -> None:
    def rij(gemeente: Gemeente, versie: str) -> tuple:
        email = "" if gemeente.rol == "zonder_email" else f"lks@{gemeente.code.lower()}.example.nl"
        if gemeente.rol == "webservice":
            url = f"http://127.0.0.1:8089/dkd/{gemeente.code}/{versie}"
            return (gemeente.code, "webservice", versie, url, "", email)
        frequentie = "maandelijks" if int(gemeente.code[2:]) % 3 == 0 else "wekelijks"
        return (gemeente.code, "verzamelbestand", versie, "", frequentie, email)

    deelnemers = [g for g in wereld.gemeenten if g.rol != "zonder_instellingen"]
    for dagen_terug, huidig in ((35, False), (2, True)):
        datum = wereld.tot - dt.timedelta(days=dagen_terug)
        path = uit / "dkd" / f"dkd_instellingen_{datum:%Y%m%d}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = _csv_writer(f)
            writer.writerow(INSTELLINGEN_KOLOMMEN)
            for gemeente in deelnemers:
                versie = wereld.berichtversie(gemeente)
                if not huidig and gemeente.rol == "normaal":
                    versie = OUDE_BERICHTVERSIE  # updated its setting between the snapshots
                writer.writerow(rij(gemeente, versie))
        resultaat.bestanden.append(path)


def _schrijf_uwv(wereld: _Wereld, scenarios: list[dict], uit: Path, resultaat: Gegenereerd) -> None:
    dagen = [wereld.tot - dt.timedelta(days=d) for d in range(wereld.schaal.dagen - 1, -1, -1)]
    bekend = [(b, g) for g in wereld.gemeenten for b in g.bsns[:200]]
    clienten = [c.bsn for g in wereld.gemeenten for c in g.clienten if not c.fout]
    herhalingen: dict[int, list[list]] = {}
    for d, dag in enumerate(dagen):
        path = uit / "uwv" / f"uwv_lks_{dag:%Y%m%d}.csv"
        rijen = [s for s in scenarios if s["dag"] == d]
        bulk = max(0, wereld.schaal.events_per_dag - len(rijen))
        for _ in range(bulk):
            r = wereld.random.random()
            if r < 0.75 and clienten:
                bsn = wereld.random.choice(clienten)
            elif r < 0.93:
                bsn = wereld.random.choice(bekend)[0]
            else:
                bsn = wereld.random.choice(wereld.onbekend)
            rijen.append({"bsn": bsn, **_bulk_event(wereld, dag)})
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = _csv_writer(f)
            writer.writerow(UWV_KOLOMMEN)
            for nummer, rij in enumerate(rijen, 1):
                row = _uwv_row(wereld, rij, f"UWV-{dag:%Y%m%d}-{nummer:06d}", dag)
                writer.writerow(row)
                if "herhaal_op" in rij:
                    herhalingen.setdefault(rij["herhaal_op"], []).append(row)
                if rij.get("fout"):
                    resultaat.quarantaine["uwv"] += 1
            for row in herhalingen.get(d, []):
                writer.writerow(row)  # the same uwv_kenmerk on a later day
        resultaat.bestanden.append(path)


def _bulk_event(wereld: _Wereld, dag: dt.date) -> dict:
    if wereld.random.random() < 0.5:
        eerste = dag - dt.timedelta(days=wereld.random.randrange(20, 120))
        return {
            "berichttype": "ZIEK_UIT_DIENST",
            "datum_eerste_ao_dag": eerste,
            "datum_einde_arbeidsverhouding": eerste
            + dt.timedelta(days=wereld.random.randrange(0, 60)),
        }
    begin = wereld.datum(dt.date(2020, 1, 1), dag - dt.timedelta(days=40))
    einde = None
    if wereld.random.random() < 0.7:
        einde = begin + dt.timedelta(days=wereld.random.randrange(14, 700))
    return {
        "berichttype": "EINDE_ZW",
        "begindatum_zw_uitkering": begin,
        "einddatum_zw_uitkering": einde,
    }


def _uwv_row(wereld: _Wereld, rij: dict, kenmerk: str, dag: dt.date) -> list[str]:
    rnd = wereld.random
    naam = rij.get("naam")
    achternaam = rnd.choice(wereld.achternamen)
    voorvoegsel = ""
    for prefix in sorted(VOORVOEGSELS, key=len, reverse=True):
        if achternaam.lower().startswith(prefix + " "):
            voorvoegsel, achternaam = prefix, achternaam[len(prefix) + 1 :]
            break
    if naam is not None:
        achternaam = LASTIGE_ACHTERNAMEN[naam]
    werkgever = LASTIGE_WERKGEVERS[naam] if naam is not None else rnd.choice(wereld.werkgevers)
    lhn = f"{rnd.randrange(10**8, 10**9)}L{rnd.randrange(1, 100):02d}"
    if rnd.random() < 0.03:
        lhn = lhn.replace("L", "")  # kept, counted as a warning
    ezw = rij["berichttype"] == "EINDE_ZW"
    waarden = {
        "uwv_kenmerk": kenmerk,
        "berichttype": rij["berichttype"],
        "bsn": rij["bsn"],
        "geboortedatum": wereld.datum(dt.date(1960, 1, 1), dt.date(2004, 12, 31)),
        "achternaam": rij.get("achternaam", achternaam) if ezw else achternaam,
        "voorvoegsel": voorvoegsel,
        "voorletters": "".join(
            f"{rnd.choice(wereld.voornamen)[0]}." for _ in range(rnd.randint(1, 3))
        ),
        "naam_administratieve_eenheid": werkgever,
        "loonheffingennummer": lhn,
        "datum_eerste_ao_dag": rij.get("datum_eerste_ao_dag"),
        "datum_einde_arbeidsverhouding": rij.get("datum_einde_arbeidsverhouding"),
        "datum_einde_uitkeringsverhouding": (
            rij.get("datum_einde_arbeidsverhouding") if rnd.random() < 0.5 else None
        ),
        "begindatum_zw_uitkering": rij.get("begindatum_zw_uitkering"),
        "einddatum_zw_uitkering": rij.get("einddatum_zw_uitkering"),
    }
    return [_tekst(waarden[k]) for k in UWV_KOLOMMEN]


def _tekst(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)

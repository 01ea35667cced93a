"""`lks-pipeline generate`: a synthetic, realistic inbox (rules 7) at any scale up to national.

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
from itertools import chain
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from faker import Faker

from lks_pipeline.core import progress
from lks_pipeline.ingest.dkd import CURRENT_BERICHTVERSIE
from lks_pipeline.ingest.schemas import (
    INSTELLINGEN_COLUMNS,
    UWV_COLUMNS,
    VERWIJSINDEX_COLUMNS,
)
from lks_pipeline.referentie.data import gemeenten

OLD_BERICHTVERSIE = "GSDDossierReintegratie-v0100"
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
class Scale:
    """How much to generate. `verwijsindex_rijen` and `dkd_clienten` are national totals.

    The last delivery day is the *stress day* with `stressdag_events` events (at least
    `events_per_dag`); every other day has `events_per_dag`. A year of ordinary days before one
    stress day is what the benchmarks' backfill and signal-path figures need.
    """

    gemeenten: int
    verwijsindex_rijen: int
    dkd_clienten: int
    events_per_dag: int
    dagen: int
    stressdag_events: int = 0


SCALES = {
    "demo": Scale(
        gemeenten=8, verwijsindex_rijen=400, dkd_clienten=160, events_per_dag=24, dagen=5
    ),
    "small": Scale(
        gemeenten=40, verwijsindex_rijen=20_000, dkd_clienten=4_000, events_per_dag=500, dagen=7
    ),
    "national": Scale(
        gemeenten=342,
        verwijsindex_rijen=3_000_000,
        dkd_clienten=400_000,
        events_per_dag=1_500,
        dagen=365,
        stressdag_events=100_000,
    ),
}


@dataclass
class Generated:
    """What was written: file count, and the deliberate bad rows per feed (exact)."""

    bestanden: list[Path] = field(default_factory=list)
    quarantaine: dict[str, int] = field(
        default_factory=lambda: {"uwv": 0, "verwijsindex": 0, "dkd_reintegratie": 0}
    )

    def add(self, path: Path) -> None:
        """A file is written: keep it, and tell a listener (the command line's progress)."""
        self.bestanden.append(path)
        progress.report("generate", path.name, len(self.bestanden))


@dataclass
class Client:
    """DKD data of one person at one gemeente."""

    bsn: str
    doelgroepen: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    inzetten: list[tuple[str, dt.date, dt.date | None, tuple | None]] = field(default_factory=list)
    fout: str | None = None  # a deliberate error, written into the XML


@dataclass
class Gemeente:
    """One gemeente's deliveries: verwijsindex, DKD clients, and its role in the scenarios.

    Bulk BSNs are int64 arrays (3 million as Python strings would cost ~200 MB); the first
    `n_clients` of `vi` and all of `dkd_only` get DKD data, generated while writing.
    """

    code: str
    role: str = "normaal"
    vi: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_clients: int = 0
    dkd_only: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    extra_verwijsindex: list[str] = field(default_factory=list)  # scenario BSNs in its verwijsindex
    clients: list[Client] = field(default_factory=list)  # scenario clients
    verwijsindex_errors: list[str] = field(
        default_factory=list
    )  # invalid BSNs written into its verwijsindex

    def bsn(self, i: int) -> str:
        return f"{self.vi[i]:09d}"


def bsns(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct valid BSNs as int64 (about one in ten starts with 0), in a seeded order.

    Drawn in batches of at most a million, the check digit computed digit by digit, so that a
    national pool of 3 million costs tens of MB, not an 8-column digit matrix.
    """
    found = np.zeros(0, dtype=np.int64)
    while len(found) < n:
        prefix = rng.integers(
            1, 100_000_000, size=min(1_000_000, int((n - len(found)) * 1.25) + 16)
        )
        check, rest = np.zeros_like(prefix), prefix.copy()
        for weight in range(2, 10):  # the last of the eight digits weighs 2, the first 9
            check += (rest % 10) * weight
            rest //= 10
        check %= 11
        candidates = np.concatenate([found, (prefix * 10 + check)[check != 10]])
        _, first = np.unique(candidates, return_index=True)
        found = candidates[np.sort(first)]
    return found[:n]


def _invalid(bsn: str) -> str:
    """The same digits with a wrong check digit: fails the elfproef."""
    return bsn[:8] + str((int(bsn[8]) + 1) % 10)


class _World:
    """The synthetic country: gemeenten with their verwijsindex and DKD clients, and persons."""

    def __init__(self, schaal: Scale, seed: int, tot: dt.date):
        self.schaal, self.seed, self.tot = schaal, seed, tot
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)
        fake = Faker("nl_NL")
        fake.seed_instance(seed)
        self.achternamen = [fake.last_name() for _ in range(1500)]
        self.voornamen = [fake.first_name() for _ in range(400)]
        self.werkgevers = [fake.company() for _ in range(600)]
        self.gemeenten = self._choose_gemeenten()
        self._fill()

    def _choose_gemeenten(self) -> list[Gemeente]:
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

    def _fill(self) -> None:
        """Split one pool of distinct BSNs over the gemeenten, big ones first (Zipf-like).

        DKD data is more skewed than the verwijsindex, so that at national scale the largest
        verzamelbestand is a few hundred MB, as the benchmarks need.
        """
        ranks = np.arange(1, len(self.gemeenten) + 1)
        vi_weights, dkd_weights = 1 / ranks**0.8, 1 / ranks**1.2
        vi_per = np.maximum(
            5, (vi_weights / vi_weights.sum() * self.schaal.verwijsindex_rijen / 1.15)
        )
        dkd_per = np.maximum(3, dkd_weights / dkd_weights.sum() * self.schaal.dkd_clienten)
        vi_per, dkd_per = vi_per.astype(int), np.minimum(dkd_per.astype(int), vi_per.astype(int))
        only_per = np.maximum(1, dkd_per // 20)
        pool = bsns(self.rng, int(vi_per.sum() + only_per.sum()) + 320)
        self.onbekend = [f"{b:09d}" for b in pool[-300:]]  # valid BSNs no gemeente knows
        self.extra = [f"{b:09d}" for b in pool[-320:-300]]  # for the scenarios
        start = 0
        for gemeente, count, clients, only in zip(
            self.gemeenten, vi_per, dkd_per, only_per, strict=True
        ):
            gemeente.vi = pool[start : start + count]
            start += count
            if gemeente.role == "geen_dkd":
                continue
            gemeente.n_clients = int(clients)
            gemeente.dkd_only = pool[start : start + only]
            start += only

    def date_between(self, begin: dt.date, end: dt.date) -> dt.date:
        return begin + dt.timedelta(days=int(self.rng.integers(0, (end - begin).days + 1)))

    def bulk_clienten(self, gemeente: Gemeente):
        """The gemeente's DKD clients with a history since 2015, generated as they are written.

        Seeded per gemeente, so each file is the same whatever else is generated.
        """
        rnd = random.Random(f"{self.seed}:{gemeente.code}")
        bsn_lijst = np.concatenate([gemeente.vi[: gemeente.n_clients], gemeente.dkd_only])
        for bsn in bsn_lijst:
            yield self._client(rnd, f"{bsn:09d}", gemeente)

    def _client(self, rnd: random.Random, bsn: str, gemeente: Gemeente) -> Client:
        client = Client(bsn)
        latest = self.tot - dt.timedelta(days=30)
        if rnd.random() < 0.95:
            begin = dt.date(2015, 1, 1) + dt.timedelta(days=rnd.randrange(0, 2900))
            buiten = rnd.random() < 0.1
            for k in range(1 + (rnd.random() < 0.4) + (rnd.random() < 0.15)):
                if begin > latest:
                    break
                einde = begin + dt.timedelta(days=rnd.randrange(200, 1500))
                # Most registrations are open-ended (indicatie Banenafspraak rarely ends).
                einde = None if einde > latest or rnd.random() < 0.7 else einde
                codes = ANDERE_CODES if buiten and k == 0 else POPULATIE_CODES
                client.doelgroepen.append((rnd.choice(codes), begin, einde))
                if einde is None:
                    break
                begin = einde + dt.timedelta(days=1)
        zonder_pct = 0.5 if gemeente.role == "lks_zonder_loonwaarde" else 0.08
        begin = dt.date(2015, 1, 1) + dt.timedelta(days=rnd.randrange(0, 3000))
        # LKS is re-assessed by a loonwaardemeting about once a year: each gives a new inzet.
        for _ in range(
            rnd.choices(range(13), weights=(3, 5, 6, 7, 8, 9, 10, 10, 10, 9, 9, 8, 6))[0]
        ):
            if begin > latest:
                break
            einde = begin + dt.timedelta(days=rnd.randrange(60, 500))
            einde = None if einde > latest else einde
            lks = None
            soort = "Loonkostensubsidie" if rnd.random() < 0.6 else rnd.choice(INZET_SOORTEN)
            if soort == "Loonkostensubsidie":
                pct = None if rnd.random() < zonder_pct else f"{rnd.randrange(20, 95, 5)}.0"
                lhn = f"{rnd.randrange(10**8, 10**9)}L0{rnd.randrange(1, 10)}"
                lks = (begin, einde, pct, lhn if rnd.random() < 0.8 else None)
            client.inzetten.append((soort, begin, einde, lks))
            if einde is None:
                break
            begin = einde + dt.timedelta(days=rnd.randrange(1, 120))
        return client

    def berichtversie(self, gemeente: Gemeente) -> str:
        return OLD_BERICHTVERSIE if gemeente.role == "v0100" else CURRENT_BERICHTVERSIE


def _lks_client(
    bsn: str,
    code: str,
    doelgroep_begin: dt.date,
    lks_begin: dt.date,
    lks_einde: dt.date | None,
    percentage: str | None,
    employer: str | None = None,
) -> Client:
    """A scenario client: one doelgroep registration and one Loonkostensubsidie inzet."""
    lks = (lks_begin, lks_einde, percentage, employer)
    return Client(
        bsn,
        [(code, doelgroep_begin, None)],
        [("Loonkostensubsidie", lks_begin, lks_einde, lks)],
    )


def _scenarios(world: _World) -> list[dict]:
    """Fixed persons and events that make every spec case present, whatever the scale.

    Returns event rows (without uwv_kenmerk/dag), each with a `dag` index (0 = first UWV day).
    Also plants the matching verwijsindex and DKD data, and the deliberate bad rows.
    """
    g = {gm.role: gm for gm in world.gemeenten}
    shared, leading_zero = _plant_persons(world, g)
    _plant_bad_rows(world, g)
    return _scenario_events(world, g, shared, leading_zero)


def _person(bsn: str, gemeente: Gemeente, client: Client | None = None) -> str:
    """Put `bsn` in the gemeente's verwijsindex and, with a Client, in its DKD data."""
    gemeente.extra_verwijsindex.append(bsn)
    if client is not None:
        gemeente.clients.append(client)
    return bsn


def _plant_persons(world: _World, g: dict[str, Gemeente]) -> tuple[str, str]:
    """The scenario persons in the gemeenten' data; returns the shared and the leading-zero BSN."""
    normaal, tweede = g["normaal"], g["lks_zonder_loonwaarde"]
    extra = world.extra
    lks_in = _lks_client(
        extra[0], "01", dt.date(2020, 1, 1), dt.date(2023, 1, 1), None, "55.0", "123456789L01"
    )
    lks_uit = _lks_client(  # LKS ended more than two years before the peildatum
        extra[1], "05", dt.date(2016, 1, 1), dt.date(2017, 1, 1), dt.date(2019, 12, 31), "40.0"
    )
    buiten = _lks_client(extra[2], "30", dt.date(2019, 1, 1), dt.date(2022, 1, 1), None, "60.0")
    zonder_pct = _lks_client(extra[3], "01", dt.date(2018, 1, 1), dt.date(2024, 6, 1), None, None)
    shared = extra[4]
    _person(extra[0], normaal, lks_in)
    _person(extra[1], normaal, lks_uit)
    _person(extra[2], normaal, buiten)
    _person(extra[3], tweede, zonder_pct)
    _person(
        shared,
        normaal,
        _lks_client(shared, "01", dt.date(2019, 1, 1), dt.date(2024, 1, 1), None, "70.0"),
    )
    _person(shared, g["geen_dkd"])  # the same BSN, only in another gemeente's verwijsindex
    _person(extra[9], normaal)  # its event comes again on a later day: `dubbel` then
    leading_zero = "010000008"
    _person(
        leading_zero,
        normaal,
        Client(
            leading_zero,
            [("02", dt.date(2021, 3, 1), None)],
            [("Scholing", dt.date(2025, 2, 1), None, None)],
        ),
    )
    return shared, leading_zero


def _plant_bad_rows(world: _World, g: dict[str, Gemeente]) -> None:
    """Deliberate bad rows: 2 in verwijsindexen, 3 DKD Clients."""
    extra, normaal = world.extra, g["normaal"]
    normaal.verwijsindex_errors.append(_invalid(extra[5]))
    g["twee_snapshots"].verwijsindex_errors.append("12345678")
    normaal.clients.append(Client(_invalid(extra[6]), fout="bsn"))
    normaal.clients.append(Client(extra[7], fout="einde_voor_begin"))
    g["lks_zonder_loonwaarde"].clients.append(Client(extra[8], fout="percentage"))


def _scenario_events(
    world: _World, g: dict[str, Gemeente], shared: str, leading_zero: str
) -> list[dict]:
    """The scenario events, one spec case each (a table)."""
    tot, extra = world.tot, world.extra
    peil = tot - dt.timedelta(days=20)
    v0100 = g["v0100"].bsn(0)
    webservice_bsn = g["webservice"].bsn(0)
    dkd_only = f"{g['normaal'].dkd_only[0]:09d}"

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
        {"dag": 1, "bsn": shared, **zud, "naam": 4},
        {"dag": 1, "bsn": leading_zero, **ezw, "naam": 5},
        {"dag": 2, "bsn": v0100, **ezw, "begindatum_zw_uitkering": dt.date(2022, 1, 1)},
        {"dag": 2, "bsn": webservice_bsn, **zud},
        {"dag": 2, "bsn": dkd_only, **ezw, "begindatum_zw_uitkering": dt.date(2021, 12, 31)},
        {"dag": 3, "bsn": world.onbekend[0], **zud},
        {"dag": 0, "bsn": extra[9], **zud, "herhaal_op": 2},
        # deliberate bad rows (4): invalid BSN, missing achternaam, impossible date, end < begin
        {"dag": 0, "bsn": _invalid(extra[10]), **zud, "fout": True},
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


def generate(uit: Path, schaal: Scale, seed: int, tot: dt.date) -> Generated:
    """Write a complete inbox under `uit` (inbox/uwv, inbox/verwijsindex, inbox/dkd)."""
    if schaal.gemeenten < 8 or schaal.dagen < 4:
        raise ValueError("minstens 8 gemeenten en 4 dagen: anders passen niet alle scenario's")
    world = _World(schaal, seed, tot)
    scenarios = _scenarios(world)
    result = Generated()
    for folder in ("uwv", "verwijsindex", "dkd"):
        (uit / folder).mkdir(parents=True, exist_ok=True)
    _write_verwijsindexen(world, uit, result)
    _write_dkd(world, uit, result)
    _write_instellingen(world, uit, result)
    _write_uwv(world, scenarios, uit, result)
    return result


def _csv_writer(f):
    return csv.writer(f, delimiter=";", quotechar='"', lineterminator="\n")


def _write_verwijsindexen(world: _World, uit: Path, result: Generated) -> None:
    for i, gemeente in enumerate(world.gemeenten):
        delivered = world.tot - dt.timedelta(days=i % 7)
        snapshots = [(delivered, gemeente.vi)]
        if gemeente.role == "twee_snapshots":
            snapshots.insert(0, (delivered - dt.timedelta(days=14), gemeente.vi[::2]))
        for snapshot_datum, bsn_lijst in snapshots:
            path = (
                uit / "verwijsindex" / f"verwijsindex_{gemeente.code}_{snapshot_datum:%Y%m%d}.csv"
            )
            clusters = world.rng.integers(0, len(CLUSTERS), size=len(bsn_lijst))
            tweede = world.rng.random(len(bsn_lijst)) < 0.15
            with path.open("w", encoding="utf-8", newline="") as f:
                f.write(";".join(VERWIJSINDEX_COLUMNS) + "\n")
                f.writelines(
                    f"{bsn:09d};{CLUSTERS[c]}\n"
                    + (f"{bsn:09d};Aanvraag uitkeringen\n" if d else "")
                    for bsn, c, d in zip(bsn_lijst, clusters, tweede, strict=True)
                )
                if snapshot_datum == delivered:
                    f.writelines(f"{bsn};Uitkeringen\n" for bsn in gemeente.extra_verwijsindex)
                    for fout in gemeente.verwijsindex_errors:
                        f.write(f"{fout};Uitkeringen\n")
                        result.quarantaine["verwijsindex"] += 1
            result.add(path)


def _period(begin: dt.date, einde: dt.date | None, indent: str) -> str:
    body = f"{indent}<Begindatum>{begin.isoformat()}</Begindatum>\n"
    return body + (f"{indent}<Einddatum>{einde.isoformat()}</Einddatum>\n" if einde else "")


_FOUTE_CLIENTS = {
    "bsn": "  <Client>\n    <BSN>{bsn}</BSN>\n  </Client>\n",
    "einde_voor_begin": (
        "  <Client>\n    <BSN>{bsn}</BSN>\n    <Doelgroep>\n      <Code>01</Code>\n"
        "      <Begindatum>2024-05-01</Begindatum>\n      <Einddatum>2023-05-01</Einddatum>\n"
        "    </Doelgroep>\n  </Client>\n"
    ),
    "percentage": (
        "  <Client>\n    <BSN>{bsn}</BSN>\n    <ReintegratieInzet>\n"
        "      <Soort>Loonkostensubsidie</Soort>\n      <Begindatum>2024-01-01</Begindatum>\n"
        "      <Loonkostensubsidie>\n        <Begindatum>2024-01-01</Begindatum>\n"
        "        <PercentageLoonwaarde>120.0</PercentageLoonwaarde>\n"
        "      </Loonkostensubsidie>\n    </ReintegratieInzet>\n  </Client>\n"
    ),
}


def _client_xml(client: Client, version: str) -> str:
    """One Client, laid out one element per line like a gemeente's export."""
    if client.fout:
        return _FOUTE_CLIENTS[client.fout].format(bsn=client.bsn)
    parts = [f"  <Client>\n    <BSN>{client.bsn}</BSN>\n"]
    for code, begin, einde in client.doelgroepen:
        parts.append(f"    <Doelgroep>\n      <Code>{code}</Code>\n")
        parts.append(_period(begin, einde, "      ") + "    </Doelgroep>\n")
    for soort, begin, einde, lks in client.inzetten:
        parts.append(f"    <ReintegratieInzet>\n      <Soort>{escape(soort)}</Soort>\n")
        parts.append(_period(begin, einde, "      "))
        if lks is not None:
            lks_begin, lks_einde, pct, lhn = lks
            parts.append("      <Loonkostensubsidie>\n" + _period(lks_begin, lks_einde, "        "))
            if pct is not None and version == CURRENT_BERICHTVERSIE:
                parts.append(f"        <PercentageLoonwaarde>{pct}</PercentageLoonwaarde>\n")
            if lhn is not None:
                parts.append(
                    f"        <LoonheffingennummerWerkgever>{lhn}</LoonheffingennummerWerkgever>\n"
                )
            parts.append("      </Loonkostensubsidie>\n")
        parts.append("    </ReintegratieInzet>\n")
    parts.append("  </Client>\n")
    return "".join(parts)


def _write_dkd(world: _World, uit: Path, result: Generated) -> None:
    for i, gemeente in enumerate(world.gemeenten):
        if gemeente.role in ("webservice", "geen_dkd"):
            continue
        delivered = world.tot - dt.timedelta(days=(i + 3) % 7)
        version = world.berichtversie(gemeente)
        path = uit / "dkd" / f"dkd_reintegratie_{gemeente.code}_{delivered:%Y%m%d}.xml"
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.write(
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<GSDDossierReintegratie xmlns="urn:lks:dkd:{version}">\n'
                f"  <Stuurgegevens><Gemeentecode>{gemeente.code}</Gemeentecode>"
                f"<Aanmaakdatum>{delivered.isoformat()}</Aanmaakdatum></Stuurgegevens>\n"
            )
            for client in world.bulk_clienten(gemeente):
                f.write(_client_xml(client, version))
            for client in gemeente.clients:
                f.write(_client_xml(client, version))
                if client.fout:
                    result.quarantaine["dkd_reintegratie"] += 1
            f.write("</GSDDossierReintegratie>\n")
        result.add(path)


def _write_instellingen(world: _World, uit: Path, result: Generated) -> None:
    def row(gemeente: Gemeente, version: str) -> tuple:
        email = "" if gemeente.role == "zonder_email" else f"lks@{gemeente.code.lower()}.example.nl"
        if gemeente.role == "webservice":
            url = f"http://127.0.0.1:8089/dkd/{gemeente.code}/{version}"
            return (gemeente.code, "webservice", version, url, "", email)
        frequentie = "maandelijks" if int(gemeente.code[2:]) % 3 == 0 else "wekelijks"
        return (gemeente.code, "verzamelbestand", version, "", frequentie, email)

    deelnemers = [g for g in world.gemeenten if g.role != "zonder_instellingen"]
    for dagen_terug, huidig in ((35, False), (2, True)):
        delivered = world.tot - dt.timedelta(days=dagen_terug)
        path = uit / "dkd" / f"dkd_instellingen_{delivered:%Y%m%d}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = _csv_writer(f)
            writer.writerow(INSTELLINGEN_COLUMNS)
            for gemeente in deelnemers:
                version = world.berichtversie(gemeente)
                if not huidig and gemeente.role == "normaal":
                    version = OLD_BERICHTVERSIE  # updated its setting between the snapshots
                writer.writerow(row(gemeente, version))
        result.add(path)


def _write_uwv(world: _World, scenarios: list[dict], uit: Path, result: Generated) -> None:
    dagen = [world.tot - dt.timedelta(days=d) for d in range(world.schaal.dagen - 1, -1, -1)]
    known_records = np.concatenate([g.vi for g in world.gemeenten])
    clients = np.concatenate(
        [np.concatenate([g.vi[: g.n_clients], g.dkd_only]) for g in world.gemeenten]
    )
    repeats: dict[int, list[list]] = {}

    def bulk(dag: dt.date, aantal: int):
        for _ in range(aantal):
            r = world.random.random()
            pool = clients if r < 0.75 else known_records if r < 0.93 else None
            if pool is None:
                bsn = world.random.choice(world.onbekend)
            else:
                bsn = f"{pool[world.random.randrange(len(pool))]:09d}"
            yield {"bsn": bsn, **_bulk_event(world, dag)}

    for d, dag in enumerate(dagen):
        path = uit / "uwv" / f"uwv_lks_{dag:%Y%m%d}.csv"
        eigen = [s for s in scenarios if s["dag"] == d]
        aantal = world.schaal.events_per_dag
        if d == len(dagen) - 1:
            aantal = max(aantal, world.schaal.stressdag_events)
        rijen = chain(eigen, bulk(dag, max(0, aantal - len(eigen))))
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = _csv_writer(f)
            writer.writerow(UWV_COLUMNS)
            for number, row in enumerate(rijen, 1):
                cells = _uwv_row(world, row, f"UWV-{dag:%Y%m%d}-{number:06d}", dag)
                writer.writerow(cells)
                if "herhaal_op" in row:
                    repeats.setdefault(row["herhaal_op"], []).append(cells)
                if row.get("fout"):
                    result.quarantaine["uwv"] += 1
            for cells in repeats.get(d, []):
                writer.writerow(cells)  # the same uwv_kenmerk on a later day
        result.add(path)


def _bulk_event(world: _World, dag: dt.date) -> dict:
    if world.random.random() < 0.5:
        first = dag - dt.timedelta(days=world.random.randrange(20, 120))
        return {
            "berichttype": "ZIEK_UIT_DIENST",
            "datum_eerste_ao_dag": first,
            "datum_einde_arbeidsverhouding": first
            + dt.timedelta(days=world.random.randrange(0, 60)),
        }
    begin = world.date_between(dt.date(2020, 1, 1), dag - dt.timedelta(days=40))
    einde = None
    if world.random.random() < 0.7:
        einde = begin + dt.timedelta(days=world.random.randrange(14, 700))
    return {
        "berichttype": "EINDE_ZW",
        "begindatum_zw_uitkering": begin,
        "einddatum_zw_uitkering": einde,
    }


def _uwv_row(world: _World, row: dict, kenmerk: str, dag: dt.date) -> list[str]:
    rnd = world.random
    name = row.get("naam")
    achternaam = rnd.choice(world.achternamen)
    voorvoegsel = ""
    for prefix in sorted(VOORVOEGSELS, key=len, reverse=True):
        if achternaam.lower().startswith(prefix + " "):
            voorvoegsel, achternaam = prefix, achternaam[len(prefix) + 1 :]
            break
    if name is not None:
        achternaam = LASTIGE_ACHTERNAMEN[name]
    employer = LASTIGE_WERKGEVERS[name] if name is not None else rnd.choice(world.werkgevers)
    lhn = f"{rnd.randrange(10**8, 10**9)}L{rnd.randrange(1, 100):02d}"
    if rnd.random() < 0.03:
        lhn = lhn.replace("L", "")  # kept, counted as a warning
    ezw = row["berichttype"] == "EINDE_ZW"
    waarden = {
        "uwv_kenmerk": kenmerk,
        "berichttype": row["berichttype"],
        "bsn": row["bsn"],
        "geboortedatum": world.date_between(dt.date(1960, 1, 1), dt.date(2004, 12, 31)),
        "achternaam": row.get("achternaam", achternaam) if ezw else achternaam,
        "voorvoegsel": voorvoegsel,
        "voorletters": "".join(
            f"{rnd.choice(world.voornamen)[0]}." for _ in range(rnd.randint(1, 3))
        ),
        "naam_administratieve_eenheid": employer,
        "loonheffingennummer": lhn,
        "datum_eerste_ao_dag": row.get("datum_eerste_ao_dag"),
        "datum_einde_arbeidsverhouding": row.get("datum_einde_arbeidsverhouding"),
        "datum_einde_uitkeringsverhouding": (
            row.get("datum_einde_arbeidsverhouding") if rnd.random() < 0.5 else None
        ),
        "begindatum_zw_uitkering": row.get("begindatum_zw_uitkering"),
        "einddatum_zw_uitkering": row.get("einddatum_zw_uitkering"),
    }
    return [_as_text(waarden[k]) for k in UWV_COLUMNS]


def _as_text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)

"""rules 4.6 against a real HTTP server on loopback playing GM0518's DKD webservice.

The inbox is `test_signalen`'s: GM0518 knows five BSNs of day 2026-11-20 through its
verwijsindex and has no verzamelbestand, so without the webservice P10 (010000008) is zekerheid
3. A good answer gives P10 an LKS with a percentage in the window: zekerheid 1.
"""

import datetime as dt
import re
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import dagster as dg
import duckdb
import pytest

from lks_pipeline.aanleverfouten import assets as aanleverfouten
from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
from lks_pipeline.core.partitions import partition_range_tags
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.signalen import assets as signalen
from lks_pipeline.webservice import assets as webservice
from lks_pipeline.webservice.resources import DkdWebservice
from lks_pipeline_tests.conftest import INSTELLINGEN_HEADER, dkd_xml, ingest, materializer, write
from lks_pipeline_tests.test_signalen import D1, D2, build_inbox, client

GM0518_BSNS = ["010000008", "111111109", "232323203", "343434301", "454545411"]
GOED = dkd_xml(
    "GM0518", client("010000008", [("01", "2015-01-01", None)], ("2024-01-01", None), "55.0")
)
VIJANDIG = (
    '<?xml version="1.0"?>\n<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
    ']>\n<GSDDossierReintegratie xmlns="urn:lks:dkd:GSDDossierReintegratie-v0200">&e;'
    "</GSDDossierReintegratie>\n"
)
ANDER = GOED.replace("<Gemeentecode>GM0518</Gemeentecode>", "<Gemeentecode>GM0363</Gemeentecode>")


class Gemeente(BaseHTTPRequestHandler):
    """Answers by path: /goed, /eerst500, /traag, /vijandig, /ander, /ongevraagd, and
    /gelijktijdig (a good answer after 0.4 s, counting requests that overlap)."""

    verzoeken: ClassVar[list[tuple[str, bytes]]] = []
    bezig: ClassVar[dict[str, int]] = {}  # requests in progress per path, and the most seen
    hoogste: ClassVar[dict[str, int]] = {}
    slot = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gemeente.verzoeken.append((self.path, body))
        pad = self.path.split("/")[1]
        if pad == "gelijktijdig":
            with Gemeente.slot:
                Gemeente.bezig[self.path] = Gemeente.bezig.get(self.path, 0) + 1
                Gemeente.hoogste[self.path] = max(
                    Gemeente.hoogste.get(self.path, 0), Gemeente.bezig[self.path]
                )
            time.sleep(0.4)
            with Gemeente.slot:
                Gemeente.bezig[self.path] -= 1
        if pad == "eerst500" and sum(p == self.path for p, _ in Gemeente.verzoeken) == 1:
            return self._antwoord(500, b"storing")
        if pad == "traag":
            time.sleep(1.5)
        answer = {
            "vijandig": VIJANDIG,
            "ander": ANDER,
            "ongevraagd": dkd_xml(
                "GM0518",
                client("010000008", [("01", "2015-01-01", None)], ("2024-01-01", None), "55.0")
                + client("787878704", [("01", "2015-01-01", None)]),
            ),
        }.get(pad, GOED)
        return self._antwoord(200, answer.encode())

    def _antwoord(self, status, content):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Gemeente)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def gesloten_poort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dag_met_webservice(root, url, batch_grootte=500, dagen=(D1,), gelijktijdig=6):
    """Ingest the inbox with GM0518 as a webservice gemeente at `url`; run the webservice step
    and signalen of `dagen` (several: one run over their range); yield the warehouse connection
    and how long that run took."""
    build_inbox(root)
    write(
        root / "inbox" / "dkd" / "dkd_instellingen_20261119.csv",
        f"{INSTELLINGEN_HEADER}\n"
        f"GM0518;webservice;GSDDossierReintegratie-v0200;{url};;lks@gm0518.example.nl\n",
    )
    resources = {
        "lks": LksSettings(data_dir=str(root)),
        "duckdb": Warehouse(database=str(root / "warehouse" / "lks.duckdb")),
        "webservice": DkdWebservice(
            timeout_seconds=0.5,
            pogingen=3,
            wachttijd_seconds=0.01,
            batch_grootte=batch_grootte,
            gelijktijdig=gelijktijdig,
        ),
        "drempels": AanleverfoutenThresholds(),
    }
    with dg.instance_for_test() as instance:
        materialize = materializer(resources, instance)
        ingest(materialize, ("GM0363", "GM0518", "GM0014"), dagen)
        start = time.monotonic()
        result = dg.materialize(
            [webservice.dkd_webservice, aanleverfouten.dkd_aanleverfouten, signalen.signalen],
            resources=resources,
            instance=instance,
            partition_key=dagen[0] if len(dagen) == 1 else None,
            tags=partition_range_tags(list(dagen)) if len(dagen) > 1 else None,
        )
        assert result.success
        duur = time.monotonic() - start
    with duckdb.connect(str(root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        yield conn, duur


def zekerheid(conn, bsn):
    return conn.execute(
        "SELECT uitkomst, zekerheid FROM signalen WHERE gemeentecode = 'GM0518' AND bsn = ?",
        [bsn],
    ).fetchall()


def errors(conn):
    return conn.execute(
        "SELECT fouttype, aantal FROM dkd_aanleverfouten WHERE gemeentecode = 'GM0518' "
        "ORDER BY fouttype"
    ).fetchall()


def bevraging(conn):
    return conn.execute(
        "SELECT gemeentecode, batch, bsns, status, pogingen, http_status, clients, in_quarantaine "
        "FROM dkd_webservice_bevragingen"
    ).fetchall()


def test_a_good_reply_gives_zekerheid_1_from_webservice_data(data_root, server):
    Gemeente.verzoeken.clear()
    with dag_met_webservice(data_root, f"{server}/goed/GM0518/GSDDossierReintegratie-v0200") as (
        conn,
        _,
    ):
        assert zekerheid(conn, "010000008") == [("gemeld", 1)]
        assert bevraging(conn) == [("GM0518", 1, 5, "ok", 1, 200, 1, 0)]
        assert errors(conn) == []
        assert conn.execute(
            "SELECT gemeentecode, bsn, bron, berichtversie FROM dkd_reintegratie "
            "WHERE bron = 'webservice'"
        ).fetchall() == [("GM0518", "010000008", "webservice", "GSDDossierReintegratie-v0200")]
    [(path, body)] = Gemeente.verzoeken
    assert path == "/goed/GM0518/GSDDossierReintegratie-v0200"
    assert re.findall(rb"<BSN>(\d+)</BSN>", body) == [b.encode() for b in GM0518_BSNS]
    assert b"<Gemeentecode>GM0518</Gemeentecode>" in body
    assert b'xmlns="urn:lks:dkd:GSDDossierReintegratie-v0200"' in body


@pytest.mark.slow
def test_http_500_is_retried_then_used(data_root, server):
    Gemeente.verzoeken.clear()
    with dag_met_webservice(
        data_root, f"{server}/eerst500/GM0518/GSDDossierReintegratie-v0200"
    ) as (conn, _):
        assert bevraging(conn) == [("GM0518", 1, 5, "ok", 2, 200, 1, 0)]
        assert zekerheid(conn, "010000008") == [("gemeld", 1)]
    assert len(Gemeente.verzoeken) == 2


@pytest.mark.slow
@pytest.mark.parametrize("soort", ["traag", "geweigerd"])
def test_unreachable_is_recorded_and_the_signal_still_goes_out_with_zekerheid_3(
    data_root, server, soort
):
    url = (
        f"{server}/traag/GM0518/GSDDossierReintegratie-v0200"
        if soort == "traag"
        else f"http://127.0.0.1:{gesloten_poort()}/GM0518/GSDDossierReintegratie-v0200"
    )
    with dag_met_webservice(data_root, url) as (conn, _):
        assert bevraging(conn) == [("GM0518", 1, 5, "onbereikbaar", 3, None, 0, 0)]
        [(fout,)] = conn.execute("SELECT fout FROM dkd_webservice_bevragingen").fetchall()
        assert fout.startswith("time-out" if soort == "traag" else "geen verbinding"), fout
        assert zekerheid(conn, "010000008") == [("gemeld", 3)]
        assert errors(conn) == [("WEBSERVICE_ONBEREIKBAAR", 1)]


@pytest.mark.parametrize(
    ("soort", "reden"),
    [
        ("vijandig", "DOCTYPE"),
        ("ander", "GM0363"),
    ],
)
@pytest.mark.slow
def test_a_hostile_or_foreign_reply_is_rejected_quickly(data_root, server, soort, reden):
    with dag_met_webservice(data_root, f"{server}/{soort}/GM0518/GSDDossierReintegratie-v0200") as (
        conn,
        duur,
    ):
        assert bevraging(conn) == [("GM0518", 1, 5, "ongeldig", 1, 200, 0, 1)]
        [(bestand, body)] = conn.execute(
            "SELECT bestand, reden FROM quarantaine WHERE feed = 'dkd_webservice'"
        ).fetchall()
        assert bestand == "webservice_GM0518_20261120_1"
        assert reden in body
        assert zekerheid(conn, "010000008") == [("gemeld", 3)]
        assert errors(conn) == [("BERICHT_ONGELDIG", 1)]
        assert conn.execute(
            "SELECT count(*) FROM dkd_reintegratie WHERE bron = 'webservice'"
        ).fetchone() == (0,)
    assert duur < 10


@pytest.mark.slow
def test_clients_not_asked_for_are_quarantined_not_stored(data_root, server):
    with dag_met_webservice(
        data_root, f"{server}/ongevraagd/GM0518/GSDDossierReintegratie-v0200"
    ) as (conn, _):
        assert bevraging(conn) == [("GM0518", 1, 5, "ok", 1, 200, 1, 1)]
        assert conn.execute(
            "SELECT bsn_gemaskeerd, reden FROM quarantaine WHERE feed = 'dkd_webservice'"
        ).fetchall() == [("******704", "Client voor een BSN dat niet is gevraagd")]
        assert conn.execute(
            "SELECT bsn FROM dkd_reintegratie WHERE bron = 'webservice'"
        ).fetchall() == [("010000008",)]


@pytest.mark.slow
def test_every_rejected_batch_counts_once(data_root, server):
    url = f"{server}/vijandig/GM0518/GSDDossierReintegratie-v0200"
    with dag_met_webservice(data_root, url, batch_grootte=2) as (conn, _):
        assert bevraging(conn) == [
            ("GM0518", 1, 2, "ongeldig", 1, 200, 0, 1),
            ("GM0518", 2, 2, "ongeldig", 1, 200, 0, 1),
            ("GM0518", 3, 1, "ongeldig", 1, 200, 0, 1),
        ]
        assert errors(conn) == [("BERICHT_ONGELDIG", 3)]


@pytest.mark.slow
def test_a_run_over_two_days_asks_both_days_at_once_and_stores_each_day_apart(data_root, server):
    url = f"{server}/gelijktijdig/GM0518/GSDDossierReintegratie-v0200"
    with dag_met_webservice(data_root, url, dagen=(D1, D2)) as (conn, _):
        assert conn.execute(
            "SELECT dag, gemeentecode, batch, bsns, status, pogingen FROM dkd_webservice_bevragingen "
            "ORDER BY dag"
        ).fetchall() == [
            (dt.date(2026, 11, 20), "GM0518", 1, 5, "ok", 1),
            (dt.date(2026, 11, 21), "GM0518", 1, 1, "ok", 1),
        ]
        # D2's event for P10 gets zekerheid 1 from the answer as well
        assert conn.execute(
            "SELECT leverdatum, uitkomst, zekerheid FROM signalen "
            "WHERE gemeentecode = 'GM0518' AND bsn = '010000008' ORDER BY leverdatum"
        ).fetchall() == [
            (dt.date(2026, 11, 20), "gemeld", 1),
            (dt.date(2026, 11, 21), "gemeld", 1),
        ]
    assert Gemeente.hoogste[url.removeprefix(server)] == 2


def test_no_gemeente_gets_more_requests_at_once_than_allowed(server):
    instellingen = DkdWebservice(timeout_seconds=5, gelijktijdig=2, wachttijd_seconds=0.01)
    paden = ["/gelijktijdig/GM0518/limiet", "/gelijktijdig/GM0363/limiet"]
    batches = [
        webservice.Batch(dt.date(2026, 11, 20) + dt.timedelta(days=i), code, server + pad, 1, [b])
        for i in range(5)
        for code, pad, b in (("GM0518", paden[0], "010000008"), ("GM0363", paden[1], "999999904"))
        if code == "GM0518" or i == 0
    ]
    antwoorden = webservice.ask_all(instellingen, batches)
    # GM0363's answer names GM0518, so it is rejected; the limit is what this test is about
    assert [a.status for a, _ in antwoorden] == ["ok", "ongeldig", "ok", "ok", "ok", "ok"]
    assert Gemeente.hoogste[paden[0]] == 2  # five batches, at most two at a time
    assert Gemeente.hoogste[paden[1]] == 1

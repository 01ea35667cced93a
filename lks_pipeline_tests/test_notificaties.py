"""rules 6.2 against a real SMTP server on loopback (aiosmtpd): exactly one mail per report content.

The inbox is the hand-built one of `test_signalen` (day 2026-11-20 has six reports) plus an
instellingen snapshot: GM0363, GM0518 and GM0599 have an address, GM0014 has an empty one.
"""

import email
import re
import socket
import ssl
from contextlib import contextmanager
from email import policy

import dagster as dg
import duckdb
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.ingest import assets as feeds
from lks_pipeline.notificaties import assets as notificaties
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.rapporten import assets as rapporten
from lks_pipeline.referentie import assets as referentie
from lks_pipeline.signalen import assets as signalen
from lks_pipeline_tests.conftest import INSTELLINGEN_HEADER, write
from lks_pipeline_tests.test_signalen import D1, UWV_D1, build_inbox

INSTELLINGEN = f"""{INSTELLINGEN_HEADER}
GM0363;verzamelbestand;GSDDossierReintegratie-v0200;;maandelijks;lks@gm0363.example.nl
GM0518;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;signalen@gm0518.example.nl
GM0599;verzamelbestand;GSDDossierReintegratie-v0100;;wekelijks;lks@gm0599.example.nl
GM0014;verzamelbestand;GSDDossierReintegratie-v0200;;wekelijks;
"""
RE_INTEGRATIE = "Er staat een 'Re-integratie_signaalrapport' voor u klaar"
EINDE_ZW = "Er staat een rapport 'LKS einde zw' voor u klaar"
# Every BSN and surname of the inbox: none may appear in any mail.
PERSOONSGEGEVENS = re.findall(r"^UWV-\d+;\w+;(\d{9});[\d-]+;([^;]+);", UWV_D1, re.M)
GM0599_TEKST = """Geachte heer, mevrouw,

Er staat een signaalrapport 'LKS einde zw' voor uw gemeente klaar.

Gemeente:        GM0599 Rotterdam
Bestand:         GM0599_LKS_einde_zw_signaalrapport_20261120.csv
Leverdatum:      20-11-2026
Aantal signalen: 1

U haalt het bestand op in het portaal, na inloggen, onder Ophalen:
http://127.0.0.1:8000/ophalen/lks-einde-zw/

Deze e-mail bevat geen persoonsgegevens;
de signalen staan alleen in het bestand.

Met vriendelijke groet,
LKS signaalverwerking
"""


def content(msg) -> str:
    """The text body, with SMTP's CRLF line ends back to LF."""
    return msg.get_content().replace("\r\n", "\n")


def vrije_poort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postvak:
    """aiosmtpd handler that keeps every accepted message."""

    def __init__(self):
        self.berichten = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.berichten.append(
            {
                "van": envelope.mail_from,
                "aan": list(envelope.rcpt_tos),
                "msg": msg,
                "ruw": envelope.original_content,
                "ingelogd": bool(session.authenticated),
            }
        )
        return "250 OK"

    def onderwerpen(self):
        return sorted((b["aan"][0], b["msg"]["Subject"]) for b in self.berichten)


class SmtpServer:
    """A real SMTP server on loopback that can be stopped and started on the same port."""

    def __init__(self, **kwargs):
        self.port = vrije_poort()
        self.postvak = Postvak()
        self.kwargs = kwargs
        self.controller = None

    def start(self):
        self.controller = Controller(
            self.postvak, hostname="127.0.0.1", port=self.port, **self.kwargs
        )
        self.controller.start()

    def stop(self):
        self.controller.stop()
        self.controller = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_):
        self.stop()

    def env(self) -> dict[str, str]:
        """The variables that point `lks-pipeline` at this server, plainly, with our sender."""
        return {
            "LKS_SMTP_HOST": "127.0.0.1",
            "LKS_SMTP_PORT": str(self.port),
            "LKS_SMTP_STARTTLS": "0",
            "LKS_MAIL_FROM": "signalen@ib.example.nl",
        }


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    if server.controller is not None:
        server.stop()


def query(root, sql):
    with duckdb.connect(str(root / "warehouse" / "lks.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@contextmanager
def dag_verwerker(root, mail: Mail):
    """Ingest the inbox; yield a runner for D1's signal path with notificaties, and for the mail."""
    build_inbox(root)
    write(root / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    resources = {
        "lks": LksSettings(data_dir=str(root)),
        "duckdb": Warehouse(database=str(root / "warehouse" / "lks.duckdb")),
        "mail": mail,
    }
    with dg.instance_for_test() as instance:

        def materialize(assets, partition=None, **kwargs):
            return dg.materialize(
                assets,
                resources=resources | kwargs.pop("resources", {}),
                partition_key=partition,
                instance=instance,
                raise_on_error=False,
                **kwargs,
            )

        materialize([referentie.gemeenten, referentie.doelgroepregister_codes])
        materialize([feeds.dkd_instellingen])
        for gemeente in ("GM0363", "GM0599", "GM0518", "GM0344", "GM0014"):
            materialize([feeds.verwijsindex], gemeente)
            materialize([feeds.dkd_reintegratie], gemeente)
        materialize([feeds.uwv_events], D1)

        class Verwerker:
            @staticmethod
            def dag(**kwargs):
                return materialize(
                    [
                        signalen.signalen,
                        rapporten.signaalrapporten,
                        signalen.poortwachter_termijnen,
                        notificaties.notificaties,
                    ],
                    D1,
                    **kwargs,
                )

            @staticmethod
            def notificaties(**kwargs):
                return materialize([notificaties.notificaties], **kwargs)

            ingest = staticmethod(materialize)

        yield Verwerker


def smtp_mail(server: SmtpServer, **kwargs) -> Mail:
    return Mail(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False, **kwargs)


VERWACHT_D1 = [  # sorted: "'" sorts before "r"
    ("lks@gm0363.example.nl", RE_INTEGRATIE),
    ("lks@gm0363.example.nl", EINDE_ZW),
    ("lks@gm0599.example.nl", EINDE_ZW),
    ("signalen@gm0518.example.nl", RE_INTEGRATIE),
    ("signalen@gm0518.example.nl", EINDE_ZW),
]


def test_one_mail_per_report_with_the_seed_subject_and_no_personal_data(data_root, smtp):
    with dag_verwerker(data_root, smtp_mail(smtp, mail_from="signalen@ib.example.nl")) as run:
        result = run.dag()
    assert result.success
    assert smtp.postvak.onderwerpen() == VERWACHT_D1
    gm0599 = next(b for b in smtp.postvak.berichten if b["aan"] == ["lks@gm0599.example.nl"])
    assert gm0599["van"] == "signalen@ib.example.nl"
    assert gm0599["msg"]["From"] == "LKS signaalverwerking <signalen@ib.example.nl>"
    assert content(gm0599["msg"]) == GM0599_TEKST
    [(sha,)] = query(data_root, "SELECT sha256 FROM signaalrapporten WHERE gemeentecode = 'GM0599'")
    message_id = f"<GM0599_LKS_einde_zw_signaalrapport_20261120.{sha[:16]}@ib.example.nl>"
    assert gm0599["msg"]["Message-ID"].strip() == message_id
    gm0363 = [b for b in smtp.postvak.berichten if b["aan"] == ["lks@gm0363.example.nl"]]
    assert sorted(re.search(r"Aantal signalen: (\d+)", content(b["msg"]))[1] for b in gm0363) == [
        "1",
        "6",
    ]
    assert len(PERSOONSGEGEVENS) == 17
    for email_message in smtp.postvak.berichten:
        ruw = email_message["ruw"].decode("utf-8", "replace")
        for bsn, achternaam in PERSOONSGEGEVENS:
            assert bsn not in ruw
            assert achternaam.lstrip("=+-@") not in ruw

    assert query(
        data_root,
        "SELECT gemeentecode, product, status, ontvanger, kanaal, pogingen FROM notificaties "
        "ORDER BY ALL",
    ) == [
        ("GM0014", "LKS re-integratie", "geen_adres", None, None, 0),
        ("GM0363", "LKS einde zw", "verzonden", "lks@gm0363.example.nl", "smtp", 1),
        ("GM0363", "LKS re-integratie", "verzonden", "lks@gm0363.example.nl", "smtp", 1),
        ("GM0518", "LKS einde zw", "verzonden", "signalen@gm0518.example.nl", "smtp", 1),
        ("GM0518", "LKS re-integratie", "verzonden", "signalen@gm0518.example.nl", "smtp", 1),
        ("GM0599", "LKS einde zw", "verzonden", "lks@gm0599.example.nl", "smtp", 1),
    ]
    event = result.asset_materializations_for_node("notificaties")[0]
    assert event.metadata["notificaties verzonden"].value == 5
    assert event.metadata["gemeenten zonder notificatie_email"].value == "GM0014"


@pytest.mark.slow
def test_a_rerun_sends_nothing_and_a_changed_report_sends_exactly_one(data_root, smtp):
    with dag_verwerker(data_root, smtp_mail(smtp)) as run:
        assert run.dag().success
        assert len(smtp.postvak.berichten) == 5
        assert run.dag().success
        assert run.notificaties().success
        assert len(smtp.postvak.berichten) == 5

        # UWV re-delivers the day with one name corrected: only GM0599's report changes.
        uwv = data_root / "inbox" / "uwv" / "uwv_lks_20261120.csv"
        write(uwv, UWV_D1.replace(";Öztürk;", ";Ozturk;"))
        assert run.ingest([feeds.uwv_events], D1).success
        assert run.dag().success
    assert len(smtp.postvak.berichten) == 6
    new_files = smtp.postvak.berichten[-1]
    assert new_files["aan"] == ["lks@gm0599.example.nl"]
    assert new_files["msg"]["Subject"] == EINDE_ZW
    assert "Dit bestand vervangt een eerdere versie met dezelfde naam." in content(new_files["msg"])
    assert query(
        data_root,
        "SELECT status, count(*) FROM notificaties WHERE gemeentecode = 'GM0599' GROUP BY ALL",
    ) == [("verzonden", 2)]


@pytest.mark.slow
def test_an_smtp_outage_loses_nothing_and_each_mail_goes_out_once_after(data_root, smtp):
    smtp.stop()
    with dag_verwerker(data_root, smtp_mail(smtp, smtp_timeout_seconds=2)) as run:
        result = run.dag()
        assert not result.success
        # Reports and deadlines are written; only the mail step failed.
        assert {e.asset_key.path[-1] for e in result.get_asset_materialization_events()} == {
            "signalen",
            "signaalrapporten",
            "poortwachter_termijnen",
        }
        assert [e.step_key for e in result.get_step_failure_events()] == ["notificaties"]
        assert query(
            data_root,
            "SELECT status, pogingen, laatste_fout LIKE 'ConnectionRefusedError%', count(*) "
            "FROM notificaties GROUP BY ALL ORDER BY ALL",
        ) == [("geen_adres", 0, None, 1), ("te_verzenden", 1, True, 5)]

        assert not run.notificaties().success  # still down: still nothing lost
        smtp.start()
        assert run.notificaties().success
        assert run.notificaties().success
        assert run.dag().success
    assert smtp.postvak.onderwerpen() == VERWACHT_D1
    assert query(
        data_root, "SELECT status, pogingen, count(*) FROM notificaties GROUP BY ALL ORDER BY ALL"
    ) == [("geen_adres", 0, 1), ("verzonden", 3, 5)]


@pytest.mark.slow
def test_a_gemeente_without_address_gets_its_report_and_its_mail_once_an_address_arrives(
    data_root, smtp
):
    with dag_verwerker(data_root, smtp_mail(smtp)) as run:
        assert run.dag().success
        assert (data_root / "reports" / "GM0014").is_dir()
        assert "GM0014" not in str(smtp.postvak.onderwerpen())
        write(
            data_root / "inbox" / "dkd" / "dkd_instellingen_20261121.csv",
            INSTELLINGEN.replace("wekelijks;\n", "wekelijks;lks@gm0014.example.nl\n"),
        )
        assert run.ingest([feeds.dkd_instellingen]).success
        assert run.notificaties().success
        assert run.notificaties().success
    assert len(smtp.postvak.berichten) == 6
    assert smtp.postvak.berichten[-1]["aan"] == ["lks@gm0014.example.nl"]
    assert smtp.postvak.berichten[-1]["msg"]["Subject"] == RE_INTEGRATIE


@pytest.mark.slow
def test_starttls_and_login(data_root, tmp_path, monkeypatch):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"lks",
            b"geheim",
        )
        return AuthResult(success=ok, handled=False)

    server = SmtpServer(
        tls_context=server_ctx,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    with server:

        def mail(password):
            return Mail(
                smtp_host="127.0.0.1",
                smtp_port=server.port,
                smtp_user="lks",
                smtp_password=password,
                smtp_timeout_seconds=5,
            )

        with dag_verwerker(data_root, mail("fout")) as run:
            assert not run.dag().success
            assert query(
                data_root,
                "SELECT DISTINCT laatste_fout FROM notificaties WHERE status = 'te_verzenden'",
            ) == [("SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')",)]
            assert run.notificaties(resources={"mail": mail("geheim")}).success
    assert server.postvak.onderwerpen() == VERWACHT_D1
    assert all(b["ingelogd"] for b in server.postvak.berichten)


@pytest.mark.slow
def test_login_without_starttls_is_refused_before_anything_is_sent(data_root, smtp):
    mail = smtp_mail(smtp, smtp_user="lks", smtp_password="geheim")
    with dag_verwerker(data_root, mail) as run:
        assert not run.dag().success
    assert smtp.postvak.berichten == []
    assert query(
        data_root, "SELECT DISTINCT laatste_fout FROM notificaties WHERE status = 'te_verzenden'"
    ) == [
        (
            "LKS_SMTP_USER is gezet zonder STARTTLS: het wachtwoord gaat nooit "
            "onversleuteld over het netwerk",
        )
    ]


@pytest.mark.slow
def test_without_smtp_host_mail_is_an_eml_in_the_outbox_once(data_root):
    with dag_verwerker(data_root, Mail(portaal_url="https://portaal.example.nl/lks")) as run:
        assert run.dag().success
        outbox = data_root / "outbox"
        namen = sorted(p.name for p in outbox.iterdir())
        mtimes = {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()}
        assert run.dag().success
    assert [re.sub(r"\.[0-9a-f]{16}\.eml$", ".eml", n) for n in namen] == [
        "GM0363_LKS_einde_zw_signaalrapport_20261120.eml",
        "GM0363_Re-integratie_signaalrapport_20261120.eml",
        "GM0518_LKS_einde_zw_signaalrapport_20261120.eml",
        "GM0518_Re-integratie_signaalrapport_20261120.eml",
        "GM0599_LKS_einde_zw_signaalrapport_20261120.eml",
    ]
    assert {p.name: p.stat().st_mtime_ns for p in outbox.iterdir()} == mtimes
    assert outbox.stat().st_mode & 0o777 == 0o700
    eml = outbox / namen[-1]
    assert eml.stat().st_mode & 0o777 == 0o600
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert (msg["To"], msg["Subject"]) == ("lks@gm0599.example.nl", EINDE_ZW)
    # The mail names the page of LKS_PORTAAL_URL where the report waits (rules 8.4).
    assert content(msg) == GM0599_TEKST.replace(
        "http://127.0.0.1:8000/", "https://portaal.example.nl/lks/"
    )
    assert query(
        data_root, "SELECT DISTINCT kanaal FROM notificaties WHERE kanaal IS NOT NULL"
    ) == [("eml",)]


@pytest.mark.slow
def test_no_mail_for_a_report_whose_file_no_longer_matches_its_record(data_root, smtp):
    with dag_verwerker(data_root, smtp_mail(smtp)) as run:
        smtp.stop()
        assert not run.dag().success
        gm0599 = (
            data_root / "reports" / "GM0599" / "GM0599_LKS_einde_zw_signaalrapport_20261120.csv"
        )
        gm0599.write_bytes(gm0599.read_bytes() + b"gewijzigd\r\n")
        smtp.start()
        assert not run.notificaties().success
    assert smtp.postvak.onderwerpen() == [v for v in VERWACHT_D1 if "gm0599" not in v[0]]
    assert query(
        data_root, "SELECT status, laatste_fout FROM notificaties WHERE gemeentecode = 'GM0599'"
    ) == [("te_verzenden", "het bestand op schijf ontbreekt of wijkt af van zijn record")]

"""The gemeenteportaal in a real browser, as gemeente staff use it (rules 8.2, 8.5).

The demo inbox processed by `lks-pipeline process`, the demo users of `lks-pipeline portaal
demo`, the portal served by `lks-pipeline portaal` (gunicorn), and headless Chromium from the
OS packages driven by Playwright. axe-core (npm) checks every page for WCAG 2.1 AA.
Set LKS_SCREENSHOTS to a folder to keep the screenshots (docs/portaal.md uses them).
"""

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django_otp.oath import totp

from lks_pipeline_tests.conftest import REPO, cli_env, lks_pipeline

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
# Without the background-networking flags Chromium keeps calling out, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# What the demo inbox yields for Amsterdam (data/inbox/, the same bytes every time).
GM0363_FOUTTYPES = [
    "BERICHT_ONGELDIG",
    "BSN_ONGELDIG",
    "LOONWAARDE_ONTBREEKT",
    "VERWIJSINDEX_ONVOLLEDIG",
]
GM0363_RE_INTEGRATIE = [
    "GM0363_Re-integratie_signaalrapport_20261120.csv",
    "GM0363_Re-integratie_signaalrapport_20261119.csv",
    "GM0363_Re-integratie_signaalrapport_20261117.csv",
    "GM0363_Re-integratie_signaalrapport_20261116.csv",
]


@dataclass(frozen=True)
class Portaal:
    url: str
    env: dict
    accounts: dict[str, tuple[str, str]]  # naam -> (wachtwoord, otpauth URI)
    data: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def portaal(demo_verwerkt, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (Debian package); .ci/run installs it")
    if not AXE.exists():
        pytest.skip("no node_modules/axe-core; .ci/run runs npm ci")
    eigen = tmp_path_factory.mktemp("portaal")
    # Deliveries and a `process` change the data root: a copy, not the shared demo.
    data = shutil.copytree(demo_verwerkt.data, eigen / "data")
    home = shutil.copytree(demo_verwerkt.home, eigen / "home")
    port = free_port()
    env = cli_env(
        data,
        home,
        LKS_PORTAAL_DATABASE_URL=f"sqlite:///{eigen / 'portaal.sqlite3'}",
        LKS_PORTAAL_PORT=str(port),
        LKS_PORTAAL_URL=f"http://127.0.0.1:{port}/",
        LKS_PORTAAL_WORKERS="1",
    )
    demo = lks_pipeline("portaal", "demo", env=env)
    assert demo.returncode == 0, demo.stderr
    accounts = {
        naam: (wachtwoord, uri)
        for naam, _, wachtwoord, uri in (r.split("\t") for r in demo.stdout.splitlines()[1:])
    }
    log = (eigen / "portaal.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "lks_pipeline.cli", "portaal"], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/"
    wait_for(url, server)
    yield Portaal(url, env, accounts, data)
    server.terminate()
    server.wait(timeout=30)
    log.close()
    assert not re.search(r"\d{9}", (eigen / "portaal.log").read_text())  # no BSN in its logs


def wait_for(url: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        assert server.poll() is None, "lks-pipeline portaal stopped"
        try:
            httpx.get(url + "inloggen/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def code(otpauth: str, stap: int = 0) -> str:
    """The code of the second factor, `stap` time steps ahead.

    A code is accepted once, and one step ahead still is: a second login within the same
    30 seconds uses `stap=1`.
    """
    secret = parse_qs(urlsplit(otpauth).query)["secret"][0]
    return f"{totp(base64.b32decode(secret), drift=stap):06d}"


def no_serious_violations(page) -> None:
    """axe-core on the page as it is: no serious or critical WCAG 2.1 AA violation.

    And no BSN on it: only the downloaded file may hold one.
    """
    assert not re.search(r"\b\d{9}\b", page.content()), page.url
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], page.url


def shot(page, name: str) -> None:
    if folder := os.environ.get("LKS_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_gemeente_user_logs_in_fetches_hides_and_logs_out(portaal, browser):
    from playwright.sync_api import expect

    context = browser.new_context(accept_downloads=True, locale="nl-NL")
    page = context.new_page()
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    wachtwoord, otpauth = portaal.accounts["demo-gm0363"]

    page.goto(portaal.url + "dashboard/")
    expect(page).to_have_url(re.compile(r"/inloggen/"))
    no_serious_violations(page)
    page.get_by_label("Gebruikersnaam").fill("demo-gm0363")
    page.get_by_label("Wachtwoord").fill("niet het wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("alert")).to_have_text("Gebruikersnaam of wachtwoord is onjuist.")
    no_serious_violations(page)
    page.get_by_label("Wachtwoord").fill(wachtwoord)
    shot(page, "1-inloggen")
    page.get_by_role("button", name="Inloggen").click()

    expect(page).to_have_url(re.compile(r"/inloggen/code/$"))
    no_serious_violations(page)
    page.get_by_label("Code").fill(code(otpauth))
    shot(page, "2-code")
    page.get_by_role("button", name="Verder").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("ORGANISATIE: Gemeente Amsterdam")).to_be_visible()
    fouttypes = page.locator("#aanleverfouten tbody tr td:nth-child(2)").all_inner_texts()
    assert fouttypes == GM0363_FOUTTYPES
    expect(page.locator("#aanleverfouten .let-op")).to_have_count(4)
    no_serious_violations(page)
    shot(page, "3-dashboard")

    page.get_by_role("link", name="Ophalen", exact=True).click()
    no_serious_violations(page)
    page.get_by_role("main").get_by_role("link", name="LKS einde zw").click()
    expect(page.locator("#rapporten tbody tr")).to_have_count(5)
    no_serious_violations(page)
    page.get_by_role("main").get_by_role("link", name="LKS re-integratie").click()
    titels = page.locator("#rapporten tbody tr td:nth-child(5)").all_inner_texts()
    assert titels == GM0363_RE_INTEGRATIE
    no_serious_violations(page)
    shot(page, "4-ophalen")

    nieuwste = GM0363_RE_INTEGRATIE[0]
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {nieuwste}").click()
    assert download.value.suggested_filename == nieuwste
    on_disk = (portaal.data / "reports" / "GM0363" / nieuwste).read_bytes()
    assert Path(download.value.path()).read_bytes() == on_disk

    oudste = GM0363_RE_INTEGRATIE[-1]
    page.get_by_label(f"Selecteer {oudste}").check()
    page.get_by_role("button", name="Verwijder geselecteerd").click()
    expect(page.locator("#rapporten tbody tr")).to_have_count(3)
    expect(page.get_by_text(oudste)).to_have_count(0)
    assert (portaal.data / "reports" / "GM0363" / oudste).is_file()
    no_serious_violations(page)

    page.goto(
        portaal.url + "ophalen/lks-re-integratie/GM0599_Re-integratie_signaalrapport_20261116.csv"
    )
    expect(page.get_by_role("heading", name="Niet gevonden")).to_be_visible()
    no_serious_violations(page)

    page.goto(portaal.url + "dashboard/")
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/inloggen/$"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/inloggen/"))
    expect(page.get_by_text("ORGANISATIE")).to_have_count(0)
    assert blocked == []
    context.close()


def test_the_audit_command_prints_the_walk_as_json_lines(portaal):
    result = lks_pipeline("portaal", "audit", "--since", "2000-01-01", env=portaal.env)
    assert result.returncode == 0, result.stderr
    regels = [json.loads(r) for r in result.stdout.splitlines()]
    assert all(
        list(r) == ["wanneer", "gebruiker", "gemeentecode", "actie", "object", "adres", "resultaat"]
        for r in regels
    )
    acties = [(r["gebruiker"], r["actie"], r["object"], r["resultaat"]) for r in regels]
    assert ("demo-gm0363", "inloggen", "", "mislukt") in acties
    assert ("demo-gm0363", "inloggen", "", "gelukt") in acties
    assert ("demo-gm0363", "download", GM0363_RE_INTEGRATIE[0], "gelukt") in acties
    assert ("demo-gm0363", "verbergen", GM0363_RE_INTEGRATIE[-1], "gelukt") in acties
    assert ("demo-gm0363", "uitloggen", "", "gelukt") in acties
    assert not re.search(r"\d{9}", result.stdout)
    later = lks_pipeline("portaal", "audit", "--since", "2999-01-01", env=portaal.env)
    assert later.returncode == 0
    assert later.stdout == ""


def test_the_user_command_reads_the_password_and_prints_the_second_factor(portaal):
    def gebruiker(*args, wachtwoord):
        return subprocess.run(
            [sys.executable, "-m", "lks_pipeline.cli", "portaal", "gebruiker", *args],
            env=portaal.env, input=wachtwoord + "\n", capture_output=True, text=True, check=False,
        )  # fmt: skip

    made = gebruiker("marie", "--gemeente", "GM0599", "--machtiging", "LKS einde zw",
                     wachtwoord="lange zin als wachtwoord")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(
        r"otpauth://totp/LKS%20gemeenteportaal%3Amarie\?secret=[A-Z2-7]+&.*\n", made.stdout
    )
    weak = gebruiker("kees", "--gemeente", "GM0599", wachtwoord="kort")
    assert (weak.returncode, weak.stdout) == (1, "")
    assert "wachtwoord geweigerd" in weak.stderr
    again = gebruiker("marie", "--ib", wachtwoord="lange zin als wachtwoord")
    assert again.returncode == 1
    assert "bestaat al" in again.stderr
    usage = gebruiker("piet", wachtwoord="lange zin als wachtwoord")  # neither --gemeente nor --ib
    assert usage.returncode == 2


def test_demo_users_are_refused_in_production(portaal):
    result = lks_pipeline("portaal", "demo", env={**portaal.env, "LKS_PORTAAL_HTTPS": "1"})
    assert result.returncode == 1
    assert "LKS_PORTAAL_HTTPS=1" in result.stderr
    assert result.stdout == ""


def log_in(page, url: str, naam: str, wachtwoord: str, otpauth: str, stap: int) -> None:
    page.goto(url + "inloggen/")
    page.get_by_label("Gebruikersnaam").fill(naam)
    page.get_by_label("Wachtwoord").fill(wachtwoord)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_label("Code").fill(code(otpauth, stap))
    page.get_by_role("button", name="Verder").click()


def inbox(portaal: Portaal) -> dict[str, bytes]:
    folder = portaal.data / "inbox"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_beheerder_delivers_a_verwijsindex_which_the_pipeline_then_loads(
    portaal, browser, tmp_path
):
    from playwright.sync_api import expect

    page = browser.new_context(locale="nl-NL").new_page()
    wachtwoord, otpauth = portaal.accounts["demo-gm0363"]
    log_in(page, portaal.url, "demo-gm0363", wachtwoord, otpauth, stap=1)
    page.get_by_role("link", name="Aanleveren", exact=True).click()
    expect(page.get_by_role("heading", name="Mijn aanleveringen")).to_be_visible()
    no_serious_violations(page)

    voor = inbox(portaal)
    fout = tmp_path / "verwijsindex.csv"
    fout.write_text("bsn,cluster\n473188703,Reintegratie\n")
    page.get_by_label("Verwijsindex").check()
    page.get_by_label("Bestand", exact=True).set_input_files(str(fout))
    page.get_by_role("button", name="Aanleveren").click()
    expect(page.locator("#afgewezen")).to_contain_text("regel 1: scheidingsteken is niet ';'")
    assert inbox(portaal) == voor
    no_serious_violations(page)

    # Named for another gemeente: stored under the user's own code and today's date. The demo's
    # own file already holds one invalid BSN (its BSN_ONGELDIG); the added line is the second.
    eigen = (REPO / "data/inbox/verwijsindex/verwijsindex_GM0363_20261120.csv").read_text()
    goed = tmp_path / "verwijsindex_GM0599_20261201.csv"
    goed.write_text(eigen + "123456789;Reintegratie\n")
    page.get_by_label("Verwijsindex").check()
    page.get_by_label("Bestand", exact=True).set_input_files(str(goed))
    page.get_by_role("button", name="Aanleveren").click()
    expect(page.get_by_role("status")).to_contain_text(
        "127 regel(s) worden geladen, 2 in quarantaine."
    )
    expect(page.get_by_role("status")).to_contain_text("BSN ******789: bsn: geen geldig BSN")
    nieuw = {k for k in inbox(portaal) if k not in voor}
    [naam] = nieuw
    assert re.fullmatch(r"verwijsindex/verwijsindex_GM0363_\d{8}\.csv", naam)
    eerste = page.locator("#aanleveringen tbody tr").first.locator("td")
    expect(eerste.nth(3)).to_have_text("ontvangen")
    no_serious_violations(page)
    shot(page, "5-aanleveren")

    page.get_by_role("link", name="DKD instellingen").click()
    page.get_by_label("Notificatie e-mail").fill("signalen@gm0363.example.nl")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_contain_text("De DKD instellingen zijn opgeslagen.")
    no_serious_violations(page)
    shot(page, "6-dkd-instellingen")

    result = lks_pipeline("process", env=portaal.env)
    assert result.returncode == 0, result.stdout + result.stderr
    page.get_by_role("link", name="Aanleveren", exact=True).click()
    expect(eerste.nth(0)).to_have_text(naam.split("/")[1])
    expect(eerste.nth(3)).to_have_text("geladen")
    expect(eerste.nth(4)).to_have_text("127")
    expect(eerste.nth(5)).to_have_text("2")
    page.get_by_role("link", name="Dashboard").click()
    jaar, maand, dag = re.search(r"_(\d{4})(\d{2})(\d{2})\.csv$", naam).groups()
    vandaag = f"{dag}-{maand}-{jaar}"
    rij = page.locator("#leveringen tbody tr", has_text="Verwijsindex").locator("td")
    expect(rij.nth(2)).to_have_text(vandaag)
    page.get_by_role("link", name="DKD instellingen").click()
    expect(page.get_by_label("Notificatie e-mail")).to_have_value("signalen@gm0363.example.nl")
    page.context.close()


def test_a_new_user_is_invited_activates_once_and_sees_only_its_own(portaal, browser):
    from playwright.sync_api import expect

    page = browser.new_context(locale="nl-NL").new_page()
    wachtwoord, otpauth = portaal.accounts["demo-gm0363"]
    log_in(page, portaal.url, "demo-gm0363", wachtwoord, otpauth, stap=2)
    page.get_by_role("link", name="Gebruikersbeheer").click()
    no_serious_violations(page)
    page.get_by_role("link", name="Gebruiker toevoegen").click()
    page.get_by_label("Gebruikersnaam").fill("sanne")
    page.get_by_label("E-mailadres").fill("sanne@gm0363.example.nl")
    page.get_by_label("Rol").select_option("medewerker")
    page.get_by_label("LKS einde zw").check()
    no_serious_violations(page)
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.get_by_role("status")).to_contain_text("sanne is toegevoegd")
    no_serious_violations(page)
    shot(page, "7-gebruikersbeheer")
    page.get_by_role("button", name="Uitloggen").click()

    [mail] = (portaal.data / "outbox").glob("activatie.*.eml")
    link = re.search(r"http://\S+/activeren/\S+/", mail.read_text())[0]
    page.goto(link)
    no_serious_violations(page)
    sleutel = page.locator("#sleutel").inner_text().replace(" ", "")
    nieuw_wachtwoord = "sanne kiest een lange zin"
    page.get_by_label("Nieuw wachtwoord").fill(nieuw_wachtwoord)
    page.get_by_label("Herhaal wachtwoord").fill(nieuw_wachtwoord)
    uri = f"otpauth://totp/x?secret={sleutel}"
    page.get_by_label("Code", exact=True).fill(code(uri))
    shot(page, "8-activeren")
    page.get_by_role("button", name="Activeren").click()
    expect(page.get_by_role("status")).to_contain_text("Uw account is geactiveerd.")

    log_in(page, portaal.url, "sanne", nieuw_wachtwoord, uri, stap=1)
    expect(page.get_by_text("ORGANISATIE: Gemeente Amsterdam")).to_be_visible()
    expect(page.get_by_role("link", name="Aanleveren", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Persoonlijke instellingen").click()
    no_serious_violations(page)
    page.goto(portaal.url + "aanleveren/")
    expect(page.get_by_role("heading", name="Niet gevonden")).to_be_visible()
    page.goto(link)
    expect(page.get_by_text("verlopen of al gebruikt")).to_be_visible()
    page.context.close()

"""`lks-pipeline`: the headless commands (rules 7).

- `generate` writes a synthetic inbox (`generate.py`).
- `process` processes everything new in the inbox through the same Definitions and instance as
  the UI (`process.py`).
- `dev` starts the UI (`dagster dev`) on the same instance (`dev.py`).
- `portaal` serves the gemeenteportaal and manages its users and audit log (`portaal.py`).

Each command's module is imported only when it runs, so `generate` never loads Dagster.
"""

import argparse
import datetime as dt
import importlib

SCALES = ("demo", "klein", "national")
# Options of `generate` that override one size of the chosen scale.
MATEN = (
    "gemeenten",
    "verwijsindex_rijen",
    "dkd_clienten",
    "events_per_dag",
    "dagen",
    "stressdag_events",
)


def parser() -> argparse.ArgumentParser:
    """The commands and their options."""
    top = argparse.ArgumentParser(prog="lks-pipeline", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="schrijf een synthetische inbox")
    gen.add_argument("--schaal", choices=SCALES, default="demo")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--tot", default="2026-11-20", help="laatste leverdag (JJJJ-MM-DD)")
    gen.add_argument("--uit", help="doelmap (standaard: $LKS_DATA_DIR/inbox)")
    gen.add_argument("--overschrijf", action="store_true", help="vervang een bestaande inbox")
    for maat in MATEN:
        gen.add_argument(f"--{maat.replace('_', '-')}", dest=maat, type=int)

    proc = sub.add_parser(
        "process", help="verwerk alles wat nieuw is in de inbox: warehouse en signaalrapporten"
    )
    proc.add_argument("--alles", action="store_true", help="ook ongewijzigde partities en dagen")

    dev = sub.add_parser(
        "dev",
        help="start de Dagster UI op dezelfde instance",
        description="Start `dagster dev` (UI en daemon) op de instance van de command line, "
        "vanuit elke map; wat na -- staat gaat door naar dagster dev (bijv. -- --port 3001).",
    )
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER)
    _portaal(sub.add_parser("portaal", help="start het gemeenteportaal; beheer gebruikers"))
    return top


def _portaal(portaal: argparse.ArgumentParser) -> None:
    sub = portaal.add_subparsers(dest="portaal_command")
    gebruiker = sub.add_parser(
        "gebruiker", help="maak een gebruiker; wachtwoord via standaardinvoer"
    )
    gebruiker.add_argument("naam")
    wie = gebruiker.add_mutually_exclusive_group(required=True)
    wie.add_argument("--gemeente", metavar="GMxxxx")
    wie.add_argument("--ib", action="store_true", help="medewerker van het Inlichtingenbureau")
    gebruiker.add_argument("--rol", choices=("medewerker", "beheerder"), default="medewerker")
    gebruiker.add_argument(
        "--machtiging",
        action="append",
        choices=("LKS re-integratie", "LKS einde zw", "DKD aanleveren"),
        help="herhaalbaar; zonder: alle drie",
    )
    gebruiker.add_argument("--email", metavar="ADRES")
    audit = sub.add_parser("audit", help="het auditlog als JSON-regels")
    audit.add_argument("--sinds", type=dt.date.fromisoformat, metavar="JJJJ-MM-DD")
    sub.add_parser("demo", help="demogebruikers voor de demo-inbox (nooit in productie)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lks-pipeline` console script."""
    args = parser().parse_args(argv)
    command = importlib.import_module(f"lks_pipeline.cli.{args.command}")
    return command.run(args)

"""`lks-pipeline`: the headless commands, their options, help texts and exit codes (click).

- `generate` writes a synthetic inbox (`generate.py`).
- `process` processes everything new in the inbox through the same Definitions and instance as
  the UI (`process.py`).
- `dev` starts the UI (`dagster dev`) on the same instance (`dev.py`).
- `portaal` serves the gemeenteportaal and manages its users and audit log (`portaal.py`).

Every text here is English, like the click, Dagster and DuckDB texts around it, with the spec's
Dutch nouns as they are (docs/development.md, "Texts per audience"). A usage error is one line
on standard error and exit status 2, never a traceback. Each command's module is imported only
when it runs, so `generate` and `--help` never load Dagster.
"""

import datetime as dt
import importlib
import sys
from importlib.metadata import version

import click

DONE, FAILED, USAGE, MAIL_HELD_BACK = 0, 1, 2, 3
SCALES = ("demo", "small", "national")
# `generate` options that override one size of the chosen scale: option -> Scale field.
SIZES = {
    "gemeenten": ("gemeenten", "Gemeenten (at least 8)."),
    "verwijsindex-rows": ("verwijsindex_rijen", "Verwijsindex rows over all gemeenten."),
    "dkd-clients": ("dkd_clienten", "DKD Clients over all gemeenten."),
    "events-per-day": ("events_per_dag", "UWV events on an ordinary day."),
    "days": ("dagen", "Delivery days (at least 4), ending on --until."),
    "stress-day-events": ("stressdag_events", "UWV events on the last day (0: an ordinary day)."),
}
SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

DATA = "  LKS_DATA_DIR   data root: inbox/, warehouse/, reports/, outbox/ (default: ./data)"
INSTANCE = "  DAGSTER_HOME   the Dagster instance (default: ./.dagster_home)"
EXIT_CODES = """\b
Exit status:
  0  done (rejected files and quarantined rows are data, recorded in the warehouse)
  1  a pipeline step failed, or the command refused (the reason on standard error)
  2  usage error: a bad option or value
  3  mail held back: the reports are written, their notifications will be retried"""
GENERATE_CODES = """\b
Exit status:
  0  done
  1  refused: the folder holds an inbox and --overwrite was not given
  2  usage error: a bad option or value"""


def _epilog(*environment: str, codes: str = EXIT_CODES) -> str:
    return "\n\n".join(["\b\nEnvironment:\n" + "\n".join(environment), codes])


class IsoDate(click.ParamType):
    """A calendar date written YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date in the form YYYY-MM-DD", param, ctx)


def _run(command: str, *args, **options) -> int:
    """Import the command's module (only now) and run it."""
    return importlib.import_module(f"lks_pipeline.cli.{command}").run(*args, **options)


@click.group(context_settings=SETTINGS, epilog=EXIT_CODES)
@click.version_option(version("lks-pipeline"), "-V", "--version", prog_name="lks-pipeline")
def cli() -> None:
    """Signaalrapporten per gemeente from UWV's daily LKS events.

    UWV's Ziektewet events about workers with loonkostensubsidie, routed through what each
    gemeente delivered (its verwijsindex and DKD re-integratie data). Operators' guide:
    docs/operations.md.
    """


@cli.command("generate", epilog=_epilog(DATA, codes=GENERATE_CODES))
@click.option(
    "--scale", type=click.Choice(SCALES), default="demo", show_default=True,
    help="Sizes to start from: demo (8 gemeenten, 22 files), small (40), national (342).",
)  # fmt: skip
@click.option(
    "--seed", type=int, default=1, show_default=True,
    help="Random seed: the same seed and options give the same bytes.",
)  # fmt: skip
@click.option(
    "--until", type=IsoDate(), default="2026-11-20", show_default=True,
    help="The last delivery day; earlier days count back from it.",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False), metavar="FOLDER",
    help="Where to write the inbox.  [default: $LKS_DATA_DIR/inbox]",
)  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace the feeds' folders of an existing inbox.")
@click.option("--quiet", "-q", is_flag=True, help="No progress; only warnings and errors.")
def generate_command(**options) -> int:
    """Write a synthetic inbox.

    Realistic files of every feed, with every edge case the rules name, at any scale up to
    national. Each size option overrides that size of the scale.
    """
    sizes = {field: options.pop(option.replace("-", "_")) for option, (field, _) in SIZES.items()}
    return _run("generate", sizes=sizes, **options)


for _option, (_field, _help) in SIZES.items():
    _minimum = {"gemeenten": 8, "days": 4}.get(_option, 0)
    generate_command = click.option(
        f"--{_option}", type=click.IntRange(min=_minimum), metavar="N", help=_help
    )(generate_command)


@cli.command(
    "process",
    epilog=_epilog(
        DATA,
        INSTANCE,
        "  LKS_DUCKDB_PATH       the warehouse (default: $LKS_DATA_DIR/warehouse/lks.duckdb)",
        "  LKS_WAREHOUSE_WACHT   seconds to wait for another process holding it (default: 600)",
        "  LKS_SMTP_HOST, ...    notifications and alerts by SMTP (empty: .eml in outbox/)",
        "  LKS_BEHEER_EMAIL      operators' address(es) for an alert per failed run",
        '  all others: docs/operations.md, "Configuration"',
    ),
)
@click.option("--all", "everything", is_flag=True, help="Also unchanged partitions and days.")
@click.option(
    "--dry-run", is_flag=True,
    help="Print what would run (feeds, partitions, days) and change nothing.",
)  # fmt: skip
@click.option(
    "--json", "as_json", is_flag=True,
    help="Print one JSON object with the counts as the only standard output.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress; only warnings and errors.")
@click.option(
    "--verbose", "-v", is_flag=True,
    help="Every partition and day, and Dagster's own log lines of each run.",
)  # fmt: skip
def process_command(**options) -> int:
    """Process everything new in the inbox.

    The warehouse, the signaalrapporten, their notifications and the analysts' copy, through
    the same definitions and instance as the UI. Progress, warnings and errors go to standard
    error; the summary (or --json) to standard output. A second run with nothing new runs
    nothing.
    """
    if options["quiet"] and options["verbose"]:
        raise click.UsageError("--quiet and --verbose exclude each other")
    return _run("process", **options)


@cli.command(
    "dev",
    context_settings={"ignore_unknown_options": True},
    epilog=_epilog(DATA, INSTANCE, codes="\b\nExit status: that of dagster dev."),
)
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev_command(dagster_args: tuple[str, ...]) -> int:
    """Start the Dagster UI and daemon (dagster dev) on this instance.

    Works from any directory. Arguments after -- go to dagster dev, e.g.
    lks-pipeline dev -- --port 3001.
    """
    return _run("dev", list(dagster_args))


PORTAAL_ENV = (
    DATA,
    "  LKS_PORTAAL_HOST, LKS_PORTAAL_PORT   where it listens (default: 127.0.0.1:8000)",
    "  LKS_PORTAAL_WORKERS                  gunicorn worker processes (default: 2)",
    "  LKS_PORTAAL_DATABASE_URL             its database (default: SQLite in data/portaal/)",
    "  LKS_PORTAAL_HTTPS                    1 in production (secure cookies, HSTS)",
    '  all others: docs/operations.md, "Configuration"',
)
PORTAAL_CODES = "\b\nExit status:\n  0  done\n  1  refused (the reason on standard error)\n" \
    "  2  usage error: a bad option or value"  # fmt: skip


@cli.group(
    "portaal", invoke_without_command=True, epilog=_epilog(*PORTAAL_ENV, codes=PORTAAL_CODES)
)
@click.pass_context
def portaal_command(ctx: click.Context) -> int | None:
    """Serve the gemeenteportaal, or manage its users and audit log.

    Without a command: migrate the portal's database, then serve it with gunicorn.
    """
    if ctx.invoked_subcommand is None:
        return _run("portaal", "serve")
    return None


@portaal_command.command("gebruiker", epilog=_epilog(DATA, codes=PORTAAL_CODES))
@click.argument("naam")
@click.option("--gemeente", metavar="GMxxxx", help="The user's gemeente.")
@click.option("--ib", is_flag=True, help="A member of the Inlichtingenbureau (no gemeente).")
@click.option(
    "--rol", type=click.Choice(["medewerker", "beheerder"]), default="medewerker",
    show_default=True, help="beheerder: may also manage the gemeente's users.",
)  # fmt: skip
@click.option(
    "--machtiging", multiple=True,
    type=click.Choice(["LKS re-integratie", "LKS einde zw", "DKD aanleveren"]),
    help="Repeatable.  [default: all three]",
)  # fmt: skip
@click.option("--email", metavar="ADDRESS", help="For activation links and notices.")
def gebruiker_command(**options) -> int:
    """Create user NAAM of a gemeente, or of the Inlichtingenbureau.

    The password is read from standard input; the one line printed is the otpauth:// URI of
    the user's second factor.
    """
    if options["ib"] == bool(options["gemeente"]):
        raise click.UsageError("give exactly one of --gemeente and --ib")
    return _run("portaal", "gebruiker", **options)


@portaal_command.command("audit", epilog=_epilog(DATA, codes=PORTAAL_CODES))
@click.option("--since", type=IsoDate(), help="From this day on (Europe/Amsterdam).")
def audit_command(since: dt.date | None) -> int:
    """Print the audit log as JSON lines, oldest first."""
    return _run("portaal", "audit", since=since)


@portaal_command.command("demo", epilog=_epilog(DATA, codes=PORTAAL_CODES))
def demo_command() -> int:
    """Create demo users and print their passwords (never in production).

    One beheerder per gemeente in the analysts' copy, and one IB user; refused with
    LKS_PORTAAL_HTTPS=1.
    """
    return _run("portaal", "demo")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lks-pipeline` console script: the command's exit status."""
    try:
        status = cli.main(args=argv, prog_name="lks-pipeline", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help(), err=True)
        return USAGE
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx else "lks-pipeline"
        click.echo(f"{where}: {error.format_message()} (see {where} --help)", err=True)
        return USAGE
    except click.ClickException as error:
        click.echo(f"lks-pipeline: {error.format_message()}", err=True)
        return error.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("lks-pipeline: interrupted", err=True)
        return 130
    return status if isinstance(status, int) else DONE


if __name__ == "__main__":
    sys.exit(main())

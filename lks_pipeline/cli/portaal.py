"""`lks-pipeline portaal`: serve the gemeenteportaal, and manage its users and audit log.

- `portaal` migrates the portal's database, then serves it with gunicorn on
  LKS_PORTAAL_HOST:LKS_PORTAAL_PORT (default 127.0.0.1:8000), LKS_PORTAAL_WORKERS processes.
- `portaal gebruiker NAAM ...` creates a user; the password comes from standard input, and the
  one line printed is the `otpauth://` URI of its second factor.
- `portaal audit [--since YYYY-MM-DD]` prints the audit log as JSON lines.
- `portaal demo` (re)creates demo users for the gemeenten in the analysts' copy.

Exit codes: 0 done, 1 refused (the reason on standard error), 2 usage error.
"""

import datetime as dt
import getpass
import json
import os
import sys

from lks_pipeline.core.files import private_folder
from lks_pipeline.core.settings import data_root, env_flag

# gunicorn's access log without the request line: a typed address may hold a BSN, and the
# audit log already records every request that matters, masked.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s" %(s)s %(b)s %(M)sms'


def run(command: str, **options) -> int:
    """Run `portaal` (serve) or one of its subcommands; Django is set up only here."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lks_pipeline.portaal.settings")
    private_folder(data_root() / "portaal")
    import django

    django.setup()
    commands = {"serve": serve, "gebruiker": gebruiker, "audit": audit, "demo": demo}
    return commands[command](**options)


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def serve() -> int:
    """Migrate, then serve with gunicorn until stopped."""
    from gunicorn.app.base import BaseApplication

    from lks_pipeline.portaal.wsgi import application

    _migrate()

    class Server(BaseApplication):
        def load_config(self):
            host = os.environ.get("LKS_PORTAAL_HOST", "127.0.0.1")
            port = os.environ.get("LKS_PORTAAL_PORT", "8000")
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", int(os.environ.get("LKS_PORTAAL_WORKERS", "2")))
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)
            self.cfg.set("proc_name", "lks-portaal")
            # Aanleveren reads a delivered file while the user waits: a large DKD file takes
            # longer than gunicorn's default 30 s (docs/portaal.md).
            self.cfg.set("timeout", 300)
            # No control socket in $HOME: systemd (or compose) starts and stops the portal.
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return application

    Server().run()
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Wachtwoord: ")
    return sys.stdin.readline().rstrip("\r\n")


def gebruiker(
    *, naam: str, gemeente: str | None, ib: bool, rol: str, machtiging: tuple, email: str | None
) -> int:
    """Create one user; print the URI of its second factor."""
    from lks_pipeline.portaal.gebruikers import Geweigerd, maak

    _migrate()
    try:
        nieuw = maak(
            naam,
            _read_password(),
            None if ib else gemeente,
            rol=rol,
            machtigingen=list(machtiging) or None,
            email=email or "",
        )
    except Geweigerd as error:
        print(f"lks-pipeline portaal gebruiker: {error}", file=sys.stderr)
        return 1
    print(nieuw.otpauth)
    return 0


def audit(*, since: dt.date | None) -> int:
    """The audit log as JSON lines, oldest first, from `--since` (Europe/Amsterdam) on."""
    from django.utils import timezone

    from lks_pipeline.portaal.models import AuditRegel

    _migrate()
    regels = AuditRegel.objects.order_by("id")
    if since:
        begin = dt.datetime.combine(since, dt.time(), timezone.get_default_timezone())
        regels = regels.filter(wanneer__gte=begin)
    for r in regels.iterator():
        regel = {
            "wanneer": timezone.localtime(r.wanneer).isoformat(timespec="seconds"),
            "gebruiker": r.gebruiker,
            "gemeentecode": r.gemeentecode,
            "actie": r.actie,
            "object": r.object,
            "adres": r.adres,
            "resultaat": r.resultaat,
        }
        print(json.dumps(regel, ensure_ascii=False))
    return 0


def demo() -> int:
    """Demo users for every gemeente the analysts' copy has reports or aanleverfouten of."""
    from django.conf import settings

    from lks_pipeline.portaal.bronnen import gemeenten_met_gegevens
    from lks_pipeline.portaal.gebruikers import demo as make_demo

    if env_flag("LKS_PORTAAL_HTTPS", False):
        print("lks-pipeline portaal demo: refused, LKS_PORTAAL_HTTPS=1 (production)",
              file=sys.stderr)  # fmt: skip
        return 1
    if not settings.ANALYSE_PATH.is_file():
        print(f"lks-pipeline portaal demo: {settings.ANALYSE_PATH} is missing; run "
              "lks-pipeline process first", file=sys.stderr)  # fmt: skip
        return 1
    _migrate()
    codes = gemeenten_met_gegevens(settings.ANALYSE_PATH)
    print("user\tgemeente\tpassword\tsecond factor")
    for account in make_demo(codes):
        print(f"{account.naam}\t{account.gemeentecode}\t{account.wachtwoord}\t{account.otpauth}")
    return 0

"""Named points where a test can make the process die at once (SIGKILL), to prove recovery.

With `LKS_CRASHPUNT=<naam>` set, the process kills itself with SIGKILL the first time it reaches
the point of that name; unset, as in production, a point costs one environment lookup. With
`LKS_CRASHPUNT_EENMALIG=<file>` as well, only the first process to get there dies (it creates the
file); later ones pass, such as the retry of a run that a daemon launches with the same
environment. Tests use it to crash at exactly the moments that matter (inside a transaction,
between writing a report and recording it, between the SMTP server's acceptance and the ledger)
instead of with a timer that hits them by chance: the failpoint technique of FreeBSD's fail(9)
and TiKV's fail-rs.
"""

import os
import signal


def crashpoint(name: str) -> None:
    """Die here, without cleanup, when LKS_CRASHPUNT names this point."""
    if os.environ.get("LKS_CRASHPUNT") != name:
        return
    if once := os.environ.get("LKS_CRASHPUNT_EENMALIG"):
        try:
            os.close(os.open(once, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return
    os.kill(os.getpid(), signal.SIGKILL)

"""Files the pipeline writes: private folders, atomic writes that survive a crash, package data.

Every room that writes a file (reports, `.eml` mail, the analysts' copy) uses these, so the
guarantees hold in one place: a reader sees a file's old bytes or its new ones, never a part;
a rename is synced into its folder; files are mode 0600 in folders of mode 0700 (readable by
the service account only: they hold personal data).
"""

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files
from pathlib import Path

from lks_pipeline.core.crashpoints import crashpoint

TEMP_SUFFIX = ".tmp"


def package_file(package: str, name: str) -> Path:
    """Path of a data file shipped in `package` (installed from a folder, never a zip)."""
    return Path(str(files(package) / name))


def private_folder(folder: Path) -> Path:
    """Create `folder` (and parents) mode 0700, and make it 0700 if it already existed."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def write_atomic(path: Path, content: bytes) -> None:
    """Write `content` to `path` so a reader sees the old file or the new one, never a part."""
    write_atomic_all({path: content})


def write_atomic_all(contents: Mapping[Path, bytes]) -> None:
    """Write each file so a reader sees its old bytes or its new ones, never a part.

    Each goes to a temp file (mode 0600, in the same folder) that is written and synced; only
    when all are, they are renamed over their targets and each folder is synced once, so the
    renames survive a crash. Folders are worked on in threads: creating and syncing a file wait
    on the disk with the GIL released, and the file system commits many files per journal
    transaction. A national day's 684 reports in 342 new folders: ~0.3 s instead of ~1 s.
    """
    per_folder: dict[Path, list[Path]] = {}
    for path in contents:
        per_folder.setdefault(path.parent, []).append(path)
    temps: dict[Path, str] = {}

    def write_folder(folder: Path) -> None:
        private_folder(folder)
        for path in per_folder[folder]:
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
            temps[path] = temp
            with os.fdopen(fd, "wb") as f:
                f.write(contents[path])
                f.flush()
                os.fsync(f.fileno())

    try:
        _for_each(write_folder, per_folder)  # returns when every folder is done, or raises after
        crashpoint("rapport:voor_rename")
        for path, temp in temps.items():
            os.replace(temp, path)
    except BaseException:
        for temp in temps.values():
            Path(temp).unlink(missing_ok=True)
        raise
    _for_each(sync_folder, per_folder)
    crashpoint("rapport:na_rename")


def _for_each(function: Callable[[Path], None], paths: Iterable[Path]) -> None:
    """`function` on every path, in threads when there are several; ends when every call has.

    File system calls wait on the disk with the GIL released. A call that raises is raised
    again after the others have ended.
    """
    paths = list(paths)
    if len(paths) < 2:
        for path in paths:
            function(path)
        return
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="schrijf") as pool:
        list(pool.map(function, paths))


def sync_folder(folder: Path | str) -> None:
    """Sync a folder to disk, so a rename into it survives a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temp_leftovers(folder: Path) -> int:
    """Delete temp files that a crashed earlier write left in `folder`; return how many."""
    if not folder.is_dir():
        return 0
    leftovers = [
        p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)
    ]
    for p in leftovers:
        p.unlink(missing_ok=True)
    return len(leftovers)

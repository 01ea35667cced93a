"""The house rules of docs/architecture.md, read from the code's own imports and definitions."""

import ast
import importlib
from pathlib import Path

from lks_pipeline_tests.conftest import REPO

PACKAGE = REPO / "lks_pipeline"
# The order data flows in: a room imports only from rooms before it (and from itself).
ROOMS = [
    "core",
    "referentie",
    "ingest",
    "synthetic",
    "webservice",
    "aanleverfouten",
    "signalen",
    "rapporten",
    "notificaties",
    "analyse",
    "portaal",
    "automation",
    "definitions",
    "cli",
]
# The one import against the flow: the gemeente partitions are the packaged CBS list.
AGAINST_THE_FLOW = {("lks_pipeline.core.partitions", "lks_pipeline.referentie.data")}
# Where Dagster may be imported: the definitions of each room, and the mechanics around them.
DAGSTER_FILES = {"assets.py", "resources.py"}
DAGSTER_MODULES = {
    "lks_pipeline.core.metadata",
    "lks_pipeline.core.partitions",
    "lks_pipeline.core.resources",
}
DAGSTER_ROOMS = {"automation", "cli", "definitions"}
# The portal is Django's and never loads Dagster: it starts fast and reads only files.
DJANGO_ROOMS = {"portaal"}
# Functions that are one declarative table and may be long.
DECLARATIVE = {"instellingen_schema"}  # the pandera schema of the instellingen feed
MAX_FUNCTION_LINES = 50


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def room(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def may_use_dagster(module: str, path: Path) -> bool:
    return path.name in DAGSTER_FILES or module in DAGSTER_MODULES or room(module) in DAGSTER_ROOMS


def reaches_dagster(
    module: str, known: dict[str, Path], seen: set[str], frameworks=("dagster", "django")
) -> str | None:
    """The import chain from `module` to dagster (or django), if there is one."""
    if module in seen:
        return None
    seen.add(module)
    for name in imports(known[module]):
        if name.split(".")[0].startswith(frameworks):
            return f"{module} -> {name}"
        if name in known and (chain := reaches_dagster(name, known, seen, frameworks)):
            return f"{module} -> {chain}"
    return None


def test_every_module_imports():
    """The fast tier touches every module: each one imports on its own."""
    for module in modules():
        if not module.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module)


def test_every_module_lives_in_a_room():
    loose = [m for m in modules() if m != "lks_pipeline" and room(m) not in ROOMS]
    assert loose == []


def test_pure_modules_never_import_dagster_or_django():
    known = modules()
    pure = [
        m
        for m, path in known.items()
        if not may_use_dagster(m, path) and room(m) not in DJANGO_ROOMS
    ]
    # The modules the rule is about must be among them: parsing, rules, report bytes, mail text.
    assert {
        "lks_pipeline.ingest.csv_file",
        "lks_pipeline.ingest.dkd",
        "lks_pipeline.ingest.schemas",
        "lks_pipeline.ingest.leveringen",
        "lks_pipeline.rapporten.signaalrapport",
        "lks_pipeline.notificaties.message",
        "lks_pipeline.notificaties.transport",
        "lks_pipeline.webservice.client",
        "lks_pipeline.core.warehouse",
        "lks_pipeline.core.files",
        "lks_pipeline.core.settings",
    } <= set(pure)
    chains = [chain for m in pure if (chain := reaches_dagster(m, known, set()))]
    assert chains == []


def test_the_portal_never_loads_dagster():
    known = modules()
    portal = [m for m in known if room(m) in DJANGO_ROOMS]
    assert "lks_pipeline.portaal.views" in portal
    chains = [c for m in portal if (c := reaches_dagster(m, known, set(), ("dagster",)))]
    assert chains == []


def test_rooms_import_only_along_the_flow():
    known = modules()
    upward = []
    for module, path in known.items():
        if module == "lks_pipeline":
            continue
        for name in imports(path):
            if name.startswith("lks_pipeline.") and name in known:
                if (module, name) in AGAINST_THE_FLOW:
                    continue
                if ROOMS.index(room(name)) > ROOMS.index(room(module)):
                    upward.append(f"{module} imports {name}")
    assert upward == []


def test_no_function_is_longer_than_fifty_lines():
    long = []
    for path in sorted([*PACKAGE.rglob("*.py"), *(REPO / "benchmarks").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and node.name not in DECLARATIVE:
                    long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_no_private_dagster_import_where_a_public_name_exists():
    private = {}
    for module, path in modules().items():
        for name in imports(path):
            if name.startswith("dagster._"):
                private.setdefault(module, set()).add(name)
    # Dagster exports no public name for the run tags of a partition range.
    assert private == {
        "lks_pipeline.core.partitions": {
            "dagster._core.storage.tags",
            "dagster._core.storage.tags.ASSET_PARTITION_RANGE_END_TAG",
            "dagster._core.storage.tags.ASSET_PARTITION_RANGE_START_TAG",
        }
    }

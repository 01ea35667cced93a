"""The command line as an operator and cron meet it: help, exit codes, output streams, progress,
`--dry-run` (docs/operations.md, "The command line")."""

import os
import pty
import re
import subprocess
import sys
import time

import click
import dagster as dg
import pytest

from lks_pipeline.cli import cli
from lks_pipeline_tests.conftest import cli_env, lks_pipeline, tree
from lks_pipeline_tests.test_reliability import processed_first_day
from lks_pipeline_tests.test_signalen import build_inbox

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def commands(group: click.Group = cli, path=("lks-pipeline",)):
    """Every command under `group`, with its path."""
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (
            ["generate", "--until", "2026-13-01"],
            "'2026-13-01' is not a date in the form YYYY-MM-DD",
        ),
        (["generate", "--scale", "groot"], "'groot' is not one of 'demo', 'small', 'national'"),
        (["generate", "--gemeenten", "3"], "3 is not in the range x>=8"),
        (["process", "--alles"], "No such option '--alles'"),
        (["process", "--quiet", "--verbose"], "--quiet and --verbose exclude each other"),
        (["portaal", "gebruiker", "anna"], "give exactly one of --gemeente and --ib"),
        (["portaal", "audit", "--since", "gisteren"], "'gisteren' is not a date"),
        (["verwerk"], "No such command 'verwerk'"),
    ],
)
def test_a_usage_error_is_one_line_on_stderr_and_status_2(argv, complaint, tmp_path):
    result = lks_pipeline(*argv, env=cli_env(tmp_path / "data", tmp_path / "home"))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    where = "lks-pipeline:" if argv == ["verwerk"] else f"lks-pipeline {argv[0]}"
    assert line.startswith(where), line
    assert complaint in line
    assert not (tmp_path / "data").exists()  # nothing was done


def test_every_command_and_option_is_explained_with_its_environment_and_exit_codes():
    seen = []
    for path, command in commands():
        seen.append(" ".join(path[1:]))
        assert command.help, path
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (path, param.name)
        text = command.get_help(click.Context(command, info_name=" ".join(path)))
        assert "Environment:" in text, path
        assert "LKS_DATA_DIR" in text, path
        assert "Exit status:" in text, path
    assert seen == ["generate", "process", "dev", "portaal", "portaal gebruiker", "portaal audit",
                    "portaal demo"]  # fmt: skip
    top = cli.get_help(click.Context(cli, info_name="lks-pipeline"))
    for code in ("0  done", "1  a pipeline step failed", "2  usage error", "3  mail held back"):
        assert code in top


def test_version_and_help_are_status_0_on_stdout(tmp_path):
    env = cli_env(tmp_path / "data", tmp_path / "home")
    version = lks_pipeline("--version", env=env)
    assert (version.returncode, version.stderr) == (0, "")
    assert re.fullmatch(r"lks-pipeline, version \d+\.\d+\.\d+\n", version.stdout)
    helped = lks_pipeline("process", "--help", env=env)
    assert helped.returncode == 0
    assert "--dry-run" in helped.stdout
    assert "LKS_WAREHOUSE_WACHT" in helped.stdout


def test_generate_refuses_an_inbox_it_would_mix_with_status_1(tmp_path):
    env = cli_env(tmp_path / "data", tmp_path / "home")
    (tmp_path / "data" / "inbox" / "uwv").mkdir(parents=True)
    (tmp_path / "data" / "inbox" / "uwv" / "uwv_lks_20261120.csv").write_text("iets\n")
    refused = lks_pipeline("generate", env=env)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        f"lks-pipeline generate: {tmp_path / 'data' / 'inbox'} is not empty; "
        "--overwrite replaces it\n"
    )
    assert tree(tmp_path / "data") == {"inbox/uwv/uwv_lks_20261120.csv": b"iets\n"}


def test_generate_on_a_terminal_shows_a_live_display_not_timestamped_lines(tmp_path):
    env = cli_env(tmp_path / "data", tmp_path / "home", COLUMNS="120")
    leader, follower = pty.openpty()
    result = subprocess.run(
        [sys.executable, "-m", "lks_pipeline.cli", "generate"],
        env=env, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120, check=False,
    )  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert result.returncode == 0
    assert result.stdout.startswith("22 files (")  # the result alone on standard output
    text = shown.decode()
    assert "generate demo in" in text
    assert "\x1b[" in text  # drawn and redrawn in place
    assert not any(TIMESTAMP.match(line) for line in text.splitlines())


def test_dry_run_on_a_fresh_data_root_plans_everything_and_creates_nothing(tmp_path):
    data = tmp_path / "data"
    build_inbox(data)
    before = tree(data)
    result = lks_pipeline("process", "--dry-run", env=cli_env(data, tmp_path / "home"))
    assert result.returncode == 0, result.stderr
    assert tree(data) == before
    assert not (tmp_path / "home").exists()
    lines = result.stdout.splitlines()
    # Two reference tables, the inbox listing, 4 verwijsindex, 3 DKD files and 2 UWV days; the
    # DKD files of GM0363 and GM0599 lie too far apart in the 342 for one range.
    assert lines[0] == f"Inbox {data / 'inbox'}: 12 partitions, 12 with new files"
    assert lines[1:] == [
        "would run [1/9] gemeenten, doelgroepregister_codes",
        "would run [2/9] inbox_bestandsnamen",
        "would run [3/9] verwijsindex GM0344..GM0363 (2 partitions)",
        "would run [4/9] verwijsindex GM0518..GM0599 (2 partitions)",
        "would run [5/9] dkd_reintegratie GM0014",
        "would run [6/9] dkd_reintegratie GM0363",
        "would run [7/9] dkd_reintegratie GM0599",
        "would run [8/9] uwv_events 2026-11-20..2026-11-21 (2 partitions)",
        "would run [9/9] signalen 2026-11-20..2026-11-21 (2 days)",
        "would run: the analysts' copy",
        "Nothing changed (--dry-run): 9 run(s), 2 leverdag(en).",
    ]


@pytest.mark.slow
def test_dry_run_changes_no_byte_and_no_run_and_names_what_process_then_does(tmp_path):
    data, env = processed_first_day(tmp_path)  # then a new day arrives

    def state():
        instance = dg.DagsterInstance.from_config(str(tmp_path / "home"))
        files = {
            folder: tree(data / folder) for folder in ("warehouse", "reports", "outbox", "inbox")
        }
        return files, len(instance.get_run_records())

    before = state()
    dry = lks_pipeline("process", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert state() == before
    assert dry.stdout.splitlines()[1:] == [
        "would run [1/2] uwv_events 2026-11-21",
        "would run [2/2] signalen 2026-11-21",
        "would run: the analysts' copy",
        "Nothing changed (--dry-run): 2 run(s), 1 leverdag(en).",
    ]
    as_json = lks_pipeline("process", "--dry-run", "--json", env=env)
    assert '"leverdagen": ["2026-11-21"]' in as_json.stdout
    assert state() == before

    done = lks_pipeline("process", env=env)
    assert done.returncode == 0
    assert "[1/1] uwv_events 2026-11-21: started" in done.stderr
    assert "[1/1] signalen 2026-11-21: started" in done.stderr
    assert "Done: 3 runs succeeded, 0 failed." in done.stdout  # the two, and the analysts' copy


@pytest.mark.slow
def test_progress_lines_stream_with_timestamps_while_the_work_goes_on(tmp_path):
    """Not on a terminal (cron): timestamped lines on stderr as each run starts and ends, and
    with --verbose each partition and day as it is done; standard output holds the summary."""
    data = tmp_path / "data"
    build_inbox(data)
    process = subprocess.Popen(
        [sys.executable, "-m", "lks_pipeline.cli", "process", "--verbose"],
        env=cli_env(data, tmp_path / "home"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    arrivals = [(time.monotonic(), line) for line in process.stderr]
    out = process.stdout.read()
    assert process.wait(timeout=300) == 0, out
    end = time.monotonic()
    ours = [(t, line) for t, line in arrivals if " - dagster - " not in line]
    assert ours
    assert all(TIMESTAMP.match(line) for _, line in ours), ours
    first_run = next(t for t, line in ours if "[1/8] gemeenten, doelgroepregister_codes" in line)
    assert end - first_run > 3, "the lines came all at the end"
    texts = [line[len("2026-12-03 02:00:00 ") :].rstrip("\n") for _, line in ours]
    started = texts.index("[8/8] uwv_events 2026-11-20..2026-11-21 (2 partitions): started")
    # The first day's 16 events (its 17th row is quarantined), after some whole seconds.
    assert re.fullmatch(
        r"\[8/8\] uwv_events 2026-11-20\.\.2026-11-21 \(2 partitions\): uwv 2026-11-20, "
        r"16 rows \(1/2\), \d+ s",
        texts[started + 1],
    ), texts[started + 1]
    assert any(t.startswith("[1/1] signalen 2026-11-20..2026-11-21 (2 days): signaalrapporten "
                            "2026-11-21 (2/2)") for t in texts)  # fmt: skip
    assert out.startswith("Done: 10 runs succeeded, 0 failed.")  # 8 ingest, 1 signalen, 1 copy

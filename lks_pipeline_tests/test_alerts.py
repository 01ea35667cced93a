"""Operators hear of every failed run (rules 7): one alert per run to LKS_BEHEER_EMAIL.

A day fails for real: the reports folder is a file, so `signaalrapporten` cannot write. The
alert goes out as `.eml` and over a real SMTP server (aiosmtpd), once per failed run, also when
the daemon's `storing_sensor` looks at the same run afterwards; it never holds a BSN. One test,
two `process` runs: each costs a pipeline run, and the suite's time is budgeted.
"""

import email
import re
from email import policy
from pathlib import Path

import dagster as dg
import pytest

from lks_pipeline.automation.alerts import GEMELD, alert, storing_sensor
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline_tests.conftest import cli_env, lks_pipeline
from lks_pipeline_tests.test_notificaties import SmtpServer
from lks_pipeline_tests.test_signalen import build_inbox

pytestmark = pytest.mark.slow

BEHEER = "beheer@lks.example.nl, dienstdoende@lks.example.nl"
UI = "https://dagster.lks.example.nl/"
SUBJECT = "lks-pipeline: run mislukt: signalen_job (2026-11-20 t/m 2026-11-21)"


def failing_root(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    build_inbox(data)
    (data / "reports").write_text("geen map\n")  # the step that writes reports must fail
    return data


def failed_runs(home: Path) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        return [instance.get_run_by_id(r.run_id) for r in runs]


def test_each_failed_run_sends_one_alert_as_eml_or_over_smtp_and_the_sensor_adds_none(tmp_path):
    data, home = failing_root(tmp_path), tmp_path / "home"
    env = cli_env(data, home, LKS_BEHEER_EMAIL=BEHEER, LKS_DAGSTER_URL=UI)
    env.pop("LKS_SMTP_HOST", None)
    first = lks_pipeline("process", env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    (run,) = failed_runs(home)
    assert run.job_name == "signalen_job"  # the inbox's two days, as one run
    outbox = data / "outbox"
    eml = outbox / f"storing.{run.run_id}.eml"
    assert sorted(outbox.iterdir()) == [eml]
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "beheer@lks.example.nl, dienstdoende@lks.example.nl"
    assert msg["Subject"] == SUBJECT
    body = msg.get_content()
    assert "Stap:       signaalrapporten\n" in body
    assert re.search(r"^Fout:       \w+Error$", body, re.M)  # the class only, never the text
    assert f"In de UI:   https://dagster.lks.example.nl/runs/{run.run_id}\n" in body
    assert not re.search(r"\d{9}", without_run_ids(eml.read_text(), run))
    assert run.tags[GEMELD] == "ja"
    assert "alert sent to beheer@lks.example.nl, dienstdoende@lks.example.nl" in first.stderr

    # The same days fail again, now with an SMTP server: a new run, and its own alert.
    with SmtpServer() as server:
        again = lks_pipeline("process", env=env | server.env())
        assert again.returncode == 1
        retry = next(r for r in failed_runs(home) if r.run_id != run.run_id)
        berichten = server.postvak.berichten
        assert [(b["aan"], b["msg"]["Subject"], b["msg"]["X-LKS-Run"]) for b in berichten] == [
            (["beheer@lks.example.nl", "dienstdoende@lks.example.nl"], SUBJECT, retry.run_id)
        ]
        assert not re.search(r"\d{9}", without_run_ids(berichten[0]["ruw"].decode(), retry))

        # The daemon's sensor, looking at both runs afterwards, sends nothing more; a failed
        # run that nobody reported yet (say, one the daemon launched) it does report, once.
        with dg.DagsterInstance.from_config(str(home)) as instance:
            mail = Mail(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False,
                        mail_from="signalen@ib.example.nl", beheer_email=BEHEER)  # fmt: skip
            evaluate_sensor(instance, data, mail)
            assert len(berichten) == 1
            instance.add_run_tags(run.run_id, {GEMELD: ""})
            for _ in range(2):
                evaluate_sensor(instance, data, mail)
            assert [b["msg"]["X-LKS-Run"] for b in berichten] == [retry.run_id, run.run_id]
            # Without an operator address there is nothing to send.
            instance.add_run_tags(run.run_id, {GEMELD: ""})
            assert not alert(instance, instance.get_run_by_id(run.run_id), Mail(), outbox)
    assert sorted(outbox.iterdir()) == [eml]


def evaluate_sensor(instance, data, mail: Mail):
    """One tick of storing_sensor on a fresh cursor: it looks back over the last day."""
    context = dg.build_sensor_context(
        instance=instance, resources={"mail": mail, "lks": LksSettings(data_dir=str(data))}
    )
    return storing_sensor(context)


def without_run_ids(text: str, *runs) -> str:
    """A run id is hex and may hold nine digits in a row; it is not personal data."""
    for run in runs:
        text = text.replace(run.run_id, "")
    return text

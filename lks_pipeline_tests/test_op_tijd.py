"""The 07:30 check (rules 7): today's signaalrapporten by 07:30 Europe/Amsterdam, one alert a day.

Evaluated with a fixed clock on a real (temporary) Dagster instance: a day's reports "exist"
when its `signaalrapporten` partition has a materialization, reported here as the pipeline
would record it.
"""

import datetime as dt
import email
from email import policy

import dagster as dg
import pytest

from lks_pipeline.automation import alerts
from lks_pipeline.core.resources import LksSettings
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.rapporten.assets import signaalrapporten

AMS = dt.timezone(dt.timedelta(hours=1))  # Europe/Amsterdam in December (CET)


def at(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=AMS)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def reports_made(instance, dag: str) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=signaalrapporten.key, partition=dag)
    )


def test_the_verdict_before_and_after_half_past_seven(instance):
    assert alerts.op_tijd(instance, at(3, 7, 29)) is None
    assert alerts.op_tijd(instance, at(3, 7, 30)) == ("2026-12-03", False)
    reports_made(instance, "2026-12-02")  # yesterday's do not count for today
    assert alerts.op_tijd(instance, at(3, 9, 0)) == ("2026-12-03", False)
    reports_made(instance, "2026-12-03")
    assert alerts.op_tijd(instance, at(3, 9, 0)) == ("2026-12-03", True)
    # Summer time: 07:30 in Amsterdam is 05:30 UTC.
    summer = dt.datetime(2026, 7, 1, 5, 29, tzinfo=dt.UTC)
    assert alerts.op_tijd(instance, summer) is None
    assert alerts.op_tijd(instance, summer + dt.timedelta(minutes=1)) == ("2026-07-01", False)


def tick(instance, cursor, now, monkeypatch, tmp_path):
    monkeypatch.setattr(alerts, "_now", lambda: now)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={
            "mail": Mail(beheer_email="beheer@ib.example.nl", mail_from="lks@ib.example.nl"),
            "lks": LksSettings(data_dir=str(tmp_path)),
        },
    )
    alerts.op_tijd_sensor(context)
    return context.cursor


def evaluations(instance) -> list[bool]:
    key = dg.AssetCheckKey(signaalrapporten.key, alerts.OP_TIJD)
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
    return [r.event.dagster_event.event_specific_data.passed for r in reversed(records)]


def outbox(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))


def test_a_late_day_fails_the_check_and_alerts_once(instance, monkeypatch, tmp_path):
    cursor = tick(instance, None, at(3, 7, 0), monkeypatch, tmp_path)
    assert cursor is None
    assert evaluations(instance) == []
    for minute in (31, 32, 45):
        cursor = tick(instance, cursor, at(3, 7, minute), monkeypatch, tmp_path)
    assert evaluations(instance) == [False]
    assert outbox(tmp_path) == ["te-laat.2026-12-03.eml"]
    msg = email.message_from_bytes(
        (tmp_path / "outbox" / "te-laat.2026-12-03.eml").read_bytes(), policy=policy.default
    )
    assert msg["To"] == "beheer@ib.example.nl"
    assert msg["Subject"] == "lks-pipeline: signaalrapporten van 2026-12-03 niet op tijd"
    reports_made(instance, "2026-12-03")
    for minute in (50, 55):
        cursor = tick(instance, cursor, at(3, 8, minute), monkeypatch, tmp_path)
    assert evaluations(instance) == [False, True]  # green once the reports came
    assert outbox(tmp_path) == ["te-laat.2026-12-03.eml"]
    cursor = tick(instance, cursor, at(4, 7, 31), monkeypatch, tmp_path)  # the next day
    assert evaluations(instance) == [False, True, False]
    assert outbox(tmp_path) == ["te-laat.2026-12-03.eml", "te-laat.2026-12-04.eml"]


def test_a_day_on_time_passes_without_mail(instance, monkeypatch, tmp_path):
    reports_made(instance, "2026-12-03")
    cursor = tick(instance, None, at(3, 7, 31), monkeypatch, tmp_path)
    tick(instance, cursor, at(3, 7, 40), monkeypatch, tmp_path)
    assert evaluations(instance) == [True]
    assert outbox(tmp_path) == []

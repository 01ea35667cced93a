"""Sensors and the schedule (rules 7) on a temporary inbox, evaluated as the daemon would.

Run requests are executed with the requested job, partition, selection and run key on a real
SQLite instance, so what a tick decides is checked by what the runs then do.
"""

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from lks_pipeline.aanleverfouten.resources import AanleverfoutenThresholds
from lks_pipeline.automation import sensors
from lks_pipeline.automation.schedules import dagelijks_0700
from lks_pipeline.core.resources import LksSettings, Warehouse
from lks_pipeline.definitions import build_defs
from lks_pipeline.notificaties.resources import Mail
from lks_pipeline.webservice.resources import DkdWebservice
from lks_pipeline_tests.conftest import write
from lks_pipeline_tests.test_notificaties import INSTELLINGEN
from lks_pipeline_tests.test_signalen import D1, D2, build_inbox

VI_HEADER = "bsn;cluster\n"


def resources(root, mail=None):
    return {
        "lks": LksSettings(data_dir=str(root)),
        "duckdb": Warehouse(database=str(root / "warehouse" / "lks.duckdb")),
        "mail": mail or Mail(),
        "webservice": DkdWebservice(timeout_seconds=0.5, pogingen=1),
        "drempels": AanleverfoutenThresholds(),
    }


class Daemon:
    """Evaluates sensors with their saved cursors and executes what they request."""

    def __init__(self, root, instance, mail=None):
        self.root, self.instance = root, instance
        self.resources = resources(root, mail)
        self.defs = build_defs(self.resources)
        self.cursors: dict[str, str | None] = {}

    def tick(self, sensor) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursors.get(sensor.name),
            resources={"lks": self.resources["lks"]},
            definitions=self.defs,
        )
        data = sensor.evaluate_tick(context)
        self.cursors[sensor.name] = data.cursor
        return list(data.run_requests or [])

    def run(self, request: dg.RunRequest, job_name: str | None = None):
        tags = dict(request.tags)
        if request.run_key:
            tags["dagster/run_key"] = request.run_key
        return self.defs.resolve_job_def(job_name or request.job_name).execute_in_process(
            instance=self.instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags=tags,
            raise_on_error=False,
        )

    def run_all(self, requests):
        results = [self.run(r) for r in requests]
        assert all(r.success for r in results)
        return results

    def query(self, sql):
        path = self.root / "warehouse" / "lks.duckdb"
        with duckdb.connect(str(path), read_only=True) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture
def daemon(data_root):
    build_inbox(data_root)
    with dg.instance_for_test() as instance:
        yield Daemon(data_root, instance)


def partitions(requests):
    """(job, the partition or the range "first..last") of each run request."""
    partition_range_tags = (
        "dagster/asset_partition_range_start",
        "dagster/asset_partition_range_end",
    )
    return sorted(
        (
            r.job_name,
            "..".join(r.tags[t] for t in partition_range_tags)
            if partition_range_tags[0] in r.tags
            else r.partition_key,
        )
        for r in requests
    )


def test_new_file_same_file_changed_content(daemon):
    first = daemon.tick(sensors.verwijsindex_sensor)
    # Four gemeenten delivered: one run over their range, reading only what is new.
    assert partitions(first) == [("verwijsindex_job", "GM0344..GM0599")]
    assert first[0].run_key.startswith("verwijsindex:")
    assert first[0].tags["lks/alleen_nieuw"] == "ja"
    result = daemon.run(first[0])
    assert result.success
    parsed = {
        m.partition: m.metadata["bestanden gelezen"].value
        for m in result.asset_materializations_for_node("verwijsindex")
    }
    assert len(parsed) == 69  # the CBS list holds 69 gemeentecodes from GM0344 to GM0599
    assert {k: v for k, v in parsed.items() if v} == {
        "GM0344": 1,
        "GM0363": 1,
        "GM0518": 1,
        "GM0599": 1,
    }
    assert daemon.tick(sensors.verwijsindex_sensor) == []

    # GM0363 corrects its delivery in place: one request, under a new run key.
    pad = daemon.root / "inbox" / "verwijsindex" / "verwijsindex_GM0363_20261119.csv"
    write(pad, pad.read_text() + "787878704;Reintegratie\n")
    changed = daemon.tick(sensors.verwijsindex_sensor)
    assert partitions(changed) == [("verwijsindex_job", "GM0363")]
    assert changed[0].run_key != first[0].run_key
    assert daemon.tick(sensors.verwijsindex_sensor) == []

    # A new delivery moved in with an old mtime (mv keeps it) is still seen.
    new_files = daemon.root / "inbox" / "verwijsindex" / "verwijsindex_GM0599_20261120.csv"
    write(new_files, VI_HEADER + "444444403;Reintegratie\n")
    os.utime(new_files, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    assert partitions(daemon.tick(sensors.verwijsindex_sensor)) == [("verwijsindex_job", "GM0599")]


@pytest.mark.slow
def test_partitions_already_loaded_are_not_requested_and_a_touch_costs_one_run(daemon):
    daemon.run_all(daemon.tick(sensors.dkd_reintegratie_sensor))
    daemon.cursors.clear()  # a new daemon on an inbox process already loaded
    assert daemon.tick(sensors.dkd_reintegratie_sensor) == []

    pad = daemon.root / "inbox" / "dkd" / "dkd_reintegratie_GM0014_20261118.xml"
    os.utime(pad)  # same bytes, new mtime
    touched = daemon.tick(sensors.dkd_reintegratie_sensor)
    assert partitions(touched) == [("dkd_reintegratie_job", "GM0014")]
    result = daemon.run(touched[0])
    assert result.success
    metadata = result.asset_materializations_for_node("dkd_reintegratie")[0].metadata
    # Same content, and the partition holds its rows: nothing read, the new fingerprint recorded.
    assert metadata["bestanden gelezen"].value == 0
    assert daemon.tick(sensors.dkd_reintegratie_sensor) == []


def test_a_bad_file_name_is_logged_and_quarantined_once_without_crashing(daemon):
    write(daemon.root / "inbox" / "uwv" / "uwv_lks_20261131.csv", "kapot")
    requests = daemon.tick(sensors.uwv_sensor)
    onleesbaar = [r for r in requests if r.job_name == "inbox_job"]
    assert len(onleesbaar) == 1
    assert onleesbaar[0].asset_selection == [
        dg.AssetKey("inbox_bestandsnamen"),
        dg.AssetKey("lks_analyse"),
    ]
    daemon.run_all(onleesbaar)
    assert daemon.query("SELECT feed, bestand, reden FROM quarantaine") == [
        ("uwv", "uwv_lks_20261131.csv", "datum 20261131 in de bestandsnaam bestaat niet")
    ]
    assert [r for r in daemon.tick(sensors.uwv_sensor) if r.job_name == "inbox_job"] == []


@pytest.mark.slow
def test_the_uwv_sensor_waits_for_the_other_feeds_then_runs_each_day_once(daemon):
    write(daemon.root / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    assert daemon.tick(sensors.uwv_sensor) == []  # nothing loaded yet: wait

    daemon.run_all(daemon.tick(sensors.referentie_sensor))
    assert daemon.tick(sensors.referentie_sensor) == []
    for sensor in (
        sensors.verwijsindex_sensor,
        sensors.dkd_reintegratie_sensor,
        sensors.dkd_instellingen_sensor,
    ):
        daemon.run_all(daemon.tick(sensor))
        assert daemon.tick(sensor) == []

    days = daemon.tick(sensors.uwv_sensor)
    assert partitions(days) == [("dag_job", D1), ("dag_job", D2)]
    results = daemon.run_all(days)
    materialized = {
        e.asset_key.to_user_string() for e in results[0].get_asset_materialization_events()
    }
    assert materialized == {
        "uwv_events",
        "dkd_webservice",
        "dkd_aanleverfouten",
        "lks_analyse",
        "signalen",
        "signaalrapporten",
        "poortwachter_termijnen",
        "notificaties",
    }
    assert daemon.tick(sensors.uwv_sensor) == []
    assert daemon.query(
        "SELECT leverdatum, count(*) FROM signaalrapporten GROUP BY ALL ORDER BY ALL"
    ) == [(dt.date(2026, 11, 20), 6), (dt.date(2026, 11, 21), 1)]
    assert len(list((daemon.root / "outbox").iterdir())) == 6  # GM0014 has no address


def test_the_uwv_sensor_gives_up_waiting_after_the_limit(daemon, monkeypatch):
    assert daemon.tick(sensors.uwv_sensor) == []
    monkeypatch.setattr(sensors, "MAX_WAIT_SECONDS", 0)
    assert partitions(daemon.tick(sensors.uwv_sensor)) == [("dag_job", D1), ("dag_job", D2)]


@pytest.mark.slow
def test_held_back_mail_is_retried_with_back_off(data_root, monkeypatch):
    build_inbox(data_root)
    write(data_root / "inbox" / "dkd" / "dkd_instellingen_20261119.csv", INSTELLINGEN)
    unreachable = Mail(smtp_host="127.0.0.1", smtp_port=1, smtp_starttls=False)
    with dg.instance_for_test() as instance:
        down = Daemon(data_root, instance, unreachable)
        down.run_all(down.tick(sensors.referentie_sensor))
        for sensor in (sensors.verwijsindex_sensor, sensors.dkd_reintegratie_sensor):
            down.run_all(down.tick(sensor))
        down.run_all(down.tick(sensors.dkd_instellingen_sensor))
        day = [r for r in down.tick(sensors.uwv_sensor) if r.partition_key == D1]
        assert not down.run(day[0]).success  # the mail step failed; the reports are written

        assert down.tick(sensors.notificaties_sensor) == []  # first retry after 5 minutes
        assert down.tick(sensors.notificaties_sensor) == []
        monkeypatch.setattr(sensors, "_now", lambda: time.time() + 24 * 3600)
        retry = down.tick(sensors.notificaties_sensor)
        assert [r.job_name for r in retry] == ["notificaties_job"]
        assert down.tick(sensors.notificaties_sensor) == []  # backing off

        up = Daemon(data_root, instance)  # the outbox "server" is always up
        assert up.run(retry[0]).success
        assert up.tick(sensors.notificaties_sensor) == []
    assert len(list((data_root / "outbox").iterdir())) == 5


def test_the_daily_schedule_runs_the_day_at_seven_amsterdam_time(daemon):
    assert dagelijks_0700.cron_schedule == "0 7 * * *"
    assert dagelijks_0700.execution_timezone == "Europe/Amsterdam"
    assert dagelijks_0700.job_name == "dag_job"
    assert dagelijks_0700.default_status == dg.DefaultScheduleStatus.RUNNING
    seven = dt.datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    context = dg.build_schedule_context(
        instance=daemon.instance,
        scheduled_execution_time=seven,
        repository_def=daemon.defs.get_repository_def(),
    )
    [request] = dagelijks_0700.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-23"

    # No UWV file for that day: the run succeeds and its check warns.
    daemon.run_all(daemon.tick(sensors.referentie_sensor))
    result = daemon.run(request, "dag_job")
    assert result.success
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "uwv_levering_ontvangen"
    ]
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN


def test_sensors_run_by_default_and_a_quiet_tick_over_10k_files_is_cheap(data_root):
    for sensor in sensors.ALL_SENSORS:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, sensor.name
    folder = data_root / "inbox" / "verwijsindex"
    folder.mkdir(parents=True)
    from lks_pipeline.referentie.data import gemeentecodes

    codes = sorted(gemeentecodes())
    for i in range(10_000):
        (folder / f"verwijsindex_{codes[i % 342]}_{20200101 + i // 342:08d}.csv").write_text(
            VI_HEADER
        )
    with dg.instance_for_test() as instance:
        daemon = Daemon(data_root, instance)
        (first,) = daemon.tick(sensors.verwijsindex_sensor)
        assert partitions([first]) == [("verwijsindex_job", f"{codes[0]}..{codes[-1]}")]
        assert first.tags["lks/bestanden"] == "10000"
        start = time.perf_counter()
        assert daemon.tick(sensors.verwijsindex_sensor) == []
        quiet = time.perf_counter() - start
    assert quiet < 5, quiet  # the benchmark holds the 1 s target; this guards the design

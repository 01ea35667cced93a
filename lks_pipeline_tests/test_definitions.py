"""The code location as the UI and the daemon see it (rules 6.4, 7)."""

import dagster as dg
import duckdb
import yaml

from lks_pipeline.automation.instance import instance_config
from lks_pipeline.core.warehouse import ensure_schema
from lks_pipeline.definitions import defs

ASSETS = {
    "gemeenten": ("referentie", None),
    "doelgroepregister_codes": ("referentie", None),
    "dkd_instellingen": ("feeds", None),
    "inbox_bestandsnamen": ("feeds", None),
    "verwijsindex": ("feeds", "gemeente"),
    "dkd_reintegratie": ("feeds", "gemeente"),
    "uwv_events": ("feeds", "dag"),
    "signalen": ("signalen", "dag"),
    "poortwachter_termijnen": ("signalen", "dag"),
    "signaalrapporten": ("rapporten", "dag"),
    "notificaties": ("rapporten", None),
    "dkd_webservice": ("feeds", "dag"),
    "dkd_aanleverfouten": ("aanleverfouten", "dag"),
    "lks_analyse": ("analyse", None),
}


def specs():
    return {node.key.to_user_string(): node for node in defs.resolve_asset_graph().asset_nodes}


def test_loadable_with_exactly_the_expected_assets():
    dg.Definitions.validate_loadable(defs)
    assert set(specs()) == set(ASSETS)


def test_groups_kinds_descriptions_and_the_writers_pool():
    for key, spec in specs().items():
        assert spec.group_name == ASSETS[key][0], key
        assert "duckdb" in spec.kinds, key
        assert len(spec.description or "") > 40, key
        assert spec.pools == {"duckdb_writer"}, key


def test_partitions():
    graph = defs.resolve_asset_graph()
    gemeente = graph.get(dg.AssetKey("verwijsindex")).partitions_def
    assert graph.get(dg.AssetKey("dkd_reintegratie")).partitions_def == gemeente
    keys = gemeente.get_partition_keys()
    assert len(keys) == 342
    assert {"GM0363", "GM0599", "GM1992"} <= set(keys)
    dag = graph.get(dg.AssetKey("uwv_events")).partitions_def
    assert isinstance(dag, dg.DailyPartitionsDefinition)
    for key in (
        "signalen",
        "signaalrapporten",
        "poortwachter_termijnen",
        "dkd_webservice",
        "dkd_aanleverfouten",
    ):
        assert graph.get(dg.AssetKey(key)).partitions_def == dag
    assert dag.get_first_partition_key() == "2017-01-01"
    assert dag.timezone == "Europe/Amsterdam"
    for key in (
        "gemeenten",
        "doelgroepregister_codes",
        "dkd_instellingen",
        "inbox_bestandsnamen",
        "notificaties",
        "lks_analyse",
    ):
        assert graph.get(dg.AssetKey(key)).partitions_def is None


def test_in_process_executor_and_jobs():
    assert defs.executor is dg.in_process_executor
    for job in (
        "referentie_job",
        "inbox_job",
        "verwijsindex_job",
        "dkd_reintegratie_job",
        "uwv_events_job",
        "signalen_job",
        "dag_job",
        "notificaties_job",
        "analyse_job",
    ):
        assert defs.resolve_job_def(job) is not None
        if job != "analyse_job":  # every job refreshes the analysts' copy at its end
            keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
            assert dg.AssetKey("lks_analyse") in keys, job
    dag_job = defs.resolve_job_def("dag_job")
    assert {k.to_user_string() for k in dag_job.asset_layer.executable_asset_keys} == {
        "uwv_events",
        "dkd_webservice",
        "dkd_aanleverfouten",
        "lks_analyse",
        "signalen",
        "signaalrapporten",
        "poortwachter_termijnen",
        "notificaties",
    }


def test_instance_config_serializes_writers():
    config = yaml.safe_load(instance_config().read_text())
    with dg.instance_for_test(overrides=config) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert pools.pool_granularity.value == "op"
    assert config["telemetry"] == {"enabled": False}


def test_signal_path_lineage_and_blocking_checks():
    graph = defs.resolve_asset_graph()
    parents = {p.to_user_string() for p in graph.get(dg.AssetKey("signalen")).parent_keys}
    assert parents == {
        "uwv_events",
        "dkd_webservice",
        "verwijsindex",
        "dkd_reintegratie",
        "doelgroepregister_codes",
    }
    assert {p.to_user_string() for p in graph.get(dg.AssetKey("signaalrapporten")).parent_keys} == {
        "signalen"
    }
    assert {p.to_user_string() for p in graph.get(dg.AssetKey("notificaties")).parent_keys} == {
        "signaalrapporten"
    }
    checks = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys}
    blocking = {name for name, spec in checks.items() if spec.blocking}
    assert blocking == {
        "signalen_alleen_eigen_bsn",
        "signalen_uitkomsten_sluitend",
        "signaalrapporten_rijen_gelijk_aan_gemeld",
    }
    assert set(checks) - blocking == {"uwv_levering_ontvangen", "signaalrapporten_op_tijd"}
    job = defs.resolve_job_def("signalen_job")
    # The 07:30 check judges the clock: its sensor evaluates it, no run does.
    assert {key.name for key in job.asset_layer.asset_graph.asset_check_keys} == blocking


def test_column_schemas_in_the_ui_match_the_tables():
    graph = defs.resolve_asset_graph()
    with duckdb.connect() as conn:
        ensure_schema(conn)
        for asset, table in (
            ("signalen", "signalen"),
            ("signaalrapporten", "signaalrapporten"),
            ("poortwachter_termijnen", "poortwachter_termijnen"),
            ("notificaties", "notificaties"),
            ("dkd_webservice", "dkd_webservice_bevragingen"),
            ("dkd_aanleverfouten", "dkd_aanleverfouten"),
        ):
            schema = graph.get(dg.AssetKey(asset)).metadata["dagster/column_schema"].schema
            columns = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            assert [(c.name, c.type) for c in schema.columns] == columns, table


def test_sensors_and_schedule_in_the_code_location():
    assert {s.name for s in defs.sensors} == {
        "uwv_sensor",
        "verwijsindex_sensor",
        "dkd_reintegratie_sensor",
        "dkd_instellingen_sensor",
        "referentie_sensor",
        "notificaties_sensor",
        "herstel_sensor",
        "storing_sensor",
        "herberekening_sensor",
        "op_tijd_sensor",
    }
    # Every sensor runs from the start: operators need not switch one on for the demo or alerts.
    assert {
        s.name for s in defs.sensors if s.default_status != dg.DefaultSensorStatus.RUNNING
    } == set()
    assert [s.name for s in defs.schedules] == ["dagelijks_0700"]

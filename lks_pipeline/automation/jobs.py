"""Asset jobs shared by the CLI, the sensors and the schedule: one per partition scheme.

Every job ends with `lks_analyse`, so each run that changed the warehouse refreshes the
analysts' copy (rules 6.4). `lks-pipeline process` selects the assets without it and
publishes once at the end instead.
"""

from typing import Any

import dagster as dg

from lks_pipeline.aanleverfouten.assets import dkd_aanleverfouten
from lks_pipeline.analyse.assets import lks_analyse
from lks_pipeline.automation.alerts import signaalrapporten_op_tijd
from lks_pipeline.ingest.assets import (
    dkd_instellingen,
    dkd_reintegratie,
    inbox_bestandsnamen,
    uwv_events,
    verwijsindex,
)
from lks_pipeline.notificaties.assets import notificaties
from lks_pipeline.rapporten.assets import signaalrapporten
from lks_pipeline.referentie.assets import doelgroepregister_codes, gemeenten
from lks_pipeline.signalen.assets import poortwachter_termijnen, signalen
from lks_pipeline.webservice.assets import dkd_webservice

# What `define_asset_job` returns: a job resolved against the Definitions later, whose class
# Dagster does not export.
AssetJob = Any


def _job(name: str, assets: list) -> AssetJob:
    # Without the 07:30 check (alerts.py): it judges the clock, and its sensor evaluates it.
    selection = dg.AssetSelection.assets(*assets, lks_analyse) - dg.AssetSelection.checks(
        signaalrapporten_op_tijd
    )
    return dg.define_asset_job(name, selection=selection)


referentie_job = _job("referentie_job", [gemeenten, doelgroepregister_codes])
inbox_job = _job("inbox_job", [inbox_bestandsnamen, dkd_instellingen])
verwijsindex_job = _job("verwijsindex_job", [verwijsindex])
dkd_reintegratie_job = _job("dkd_reintegratie_job", [dkd_reintegratie])
uwv_events_job = _job("uwv_events_job", [uwv_events])

# The work of one delivery day after its UWV file: ask the webservice gemeenten, judge every
# gemeente's deliveries, then route. The blocking checks on signalen gate the reports and
# deadlines; the one on signaalrapporten gates the mail.
SIGNAALPAD = [
    dkd_webservice,
    dkd_aanleverfouten,
    signalen,
    signaalrapporten,
    poortwachter_termijnen,
    notificaties,
]
signalen_job = _job("signalen_job", SIGNAALPAD)
# A delivery day: its UWV file, then its signal path (the UWV sensor and the schedule). Every
# daily asset has the single-run policy, so a range of days is one run here as well.
dag_job = _job("dag_job", [uwv_events, *SIGNAALPAD])
# Mail that an outage held back, without touching any day (the retry sensor).
notificaties_job = _job("notificaties_job", [notificaties])
# Only the analysts' copy (the end of `lks-pipeline process`).
analyse_job = dg.define_asset_job("analyse_job", selection=[lks_analyse])

ALL_JOBS = [
    referentie_job,
    inbox_job,
    verwijsindex_job,
    dkd_reintegratie_job,
    uwv_events_job,
    signalen_job,
    dag_job,
    notificaties_job,
    analyse_job,
]

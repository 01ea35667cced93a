"""Asset jobs shared by the CLI, the sensors and the schedule: one per partition scheme."""

import dagster as dg

from lks_pipeline.assets.feeds import (
    dkd_instellingen,
    dkd_reintegratie,
    inbox_bestandsnamen,
    uwv_events,
    verwijsindex,
)
from lks_pipeline.assets.notificaties import notificaties
from lks_pipeline.assets.rapporten import signaalrapporten
from lks_pipeline.assets.referentie import doelgroepregister_codes, gemeenten
from lks_pipeline.assets.signalen import poortwachter_termijnen, signalen
from lks_pipeline.assets.webservice import dkd_webservice

referentie_job = dg.define_asset_job(
    "referentie_job", selection=[gemeenten, doelgroepregister_codes]
)
inbox_job = dg.define_asset_job("inbox_job", selection=[inbox_bestandsnamen, dkd_instellingen])
verwijsindex_job = dg.define_asset_job("verwijsindex_job", selection=[verwijsindex])
dkd_reintegratie_job = dg.define_asset_job("dkd_reintegratie_job", selection=[dkd_reintegratie])
uwv_events_job = dg.define_asset_job("uwv_events_job", selection=[uwv_events])

# The signal path of one delivery day: ask the webservice gemeenten, then route. The blocking
# checks on signalen gate the reports and deadlines; the one on signaalrapporten gates the mail.
SIGNAALPAD = [dkd_webservice, signalen, signaalrapporten, poortwachter_termijnen, notificaties]
signalen_job = dg.define_asset_job("signalen_job", selection=SIGNAALPAD)
# A whole delivery day: its UWV file, then its signal path (the UWV sensor and the schedule).
dag_job = dg.define_asset_job("dag_job", selection=[uwv_events, *SIGNAALPAD])
# Mail that an outage held back, without touching any day (the retry sensor).
notificaties_job = dg.define_asset_job("notificaties_job", selection=[notificaties])

ALL_JOBS = [
    referentie_job,
    inbox_job,
    verwijsindex_job,
    dkd_reintegratie_job,
    uwv_events_job,
    signalen_job,
    dag_job,
    notificaties_job,
]

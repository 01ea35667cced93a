"""Asset jobs shared by the CLI (and later the sensors and schedule): one per partition scheme."""

import dagster as dg

from lks_pipeline.assets.feeds import (
    dkd_instellingen,
    dkd_reintegratie,
    inbox_bestandsnamen,
    uwv_events,
    verwijsindex,
)
from lks_pipeline.assets.rapporten import signaalrapporten
from lks_pipeline.assets.referentie import doelgroepregister_codes, gemeenten
from lks_pipeline.assets.signalen import poortwachter_termijnen, signalen

referentie_job = dg.define_asset_job(
    "referentie_job", selection=[gemeenten, doelgroepregister_codes]
)
inbox_job = dg.define_asset_job("inbox_job", selection=[inbox_bestandsnamen, dkd_instellingen])
verwijsindex_job = dg.define_asset_job("verwijsindex_job", selection=[verwijsindex])
dkd_reintegratie_job = dg.define_asset_job("dkd_reintegratie_job", selection=[dkd_reintegratie])
uwv_events_job = dg.define_asset_job("uwv_events_job", selection=[uwv_events])

# The signal path of one delivery day; the blocking checks on signalen gate the other two.
signalen_job = dg.define_asset_job(
    "signalen_job", selection=[signalen, signaalrapporten, poortwachter_termijnen]
)

ALL_JOBS = [
    referentie_job,
    inbox_job,
    verwijsindex_job,
    dkd_reintegratie_job,
    uwv_events_job,
    signalen_job,
]

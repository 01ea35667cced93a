"""How a gemeente's DKD webservice is asked (rules 4.6): the `webservice` resource."""

import dagster as dg
from pydantic import Field


class DkdWebservice(dg.ConfigurableResource):
    """How the DKD webservice of a gemeente is asked (rules 4.6)."""

    timeout_seconds: float = Field(default=10.0, description="LKS_WEBSERVICE_TIMEOUT per request.")
    pogingen: int = Field(default=3, description="LKS_WEBSERVICE_POGINGEN: attempts per batch.")
    wachttijd_seconds: float = Field(
        default=0.5,
        description="LKS_WEBSERVICE_WACHTTIJD: wait before the 2nd attempt, doubled after.",
    )
    batch_grootte: int = Field(default=500, description="LKS_WEBSERVICE_BATCH: BSNs per request.")
    gelijktijdig: int = Field(
        default=6,
        description="LKS_WEBSERVICE_GELIJKTIJDIG: requests at once to one gemeente (days and "
        "batches of a run are asked side by side).",
    )

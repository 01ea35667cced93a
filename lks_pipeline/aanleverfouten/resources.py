"""The thresholds of the DKD-aanleverfouten (rules 6.3): the `drempels` resource."""

import dagster as dg
from pydantic import Field


class AanleverfoutenThresholds(dg.ConfigurableResource):
    """Thresholds of the DKD-aanleverfouten (rules 6.3)."""

    marge_dagen: int = Field(
        default=7,
        description="LKS_AANLEVER_MARGE_DAGEN: grace after the leverfrequentie (7 or 31 days).",
    )
    verwijsindex_max_dagen: int = Field(
        default=35, description="LKS_VERWIJSINDEX_MAX_DAGEN: older is VERWIJSINDEX_VEROUDERD."
    )

"""The thresholds of the DKD-aanleverfouten (rules 6.3): the `drempels` resource."""

import dagster as dg
from pydantic import Field

from lks_pipeline.aanleverfouten.drempels import MARGE_DAGEN, VERWIJSINDEX_MAX_DAGEN


class AanleverfoutenThresholds(dg.ConfigurableResource):
    """Thresholds of the DKD-aanleverfouten (rules 6.3)."""

    marge_dagen: int = Field(
        default=MARGE_DAGEN,
        description="LKS_AANLEVER_MARGE_DAGEN: grace after the leverfrequentie (7 or 31 days).",
    )
    verwijsindex_max_dagen: int = Field(
        default=VERWIJSINDEX_MAX_DAGEN,
        description="LKS_VERWIJSINDEX_MAX_DAGEN: older is VERWIJSINDEX_VEROUDERD.",
    )

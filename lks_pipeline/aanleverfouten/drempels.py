"""The terms of the DKD-aanleverfouten (rules 6.3) and their defaults, in one place.

Pure, so that the portal's dashboard says a delivery is due on exactly the terms the
aanleverfouten use: `resources.py` (the `drempels` resource), `definitions.py` and the portal's
settings take their defaults from here. `dkd_aanleverfouten.sql` spells the same leverfrequentie
terms in its CASE.
"""

# Grace after the leverfrequentie before GEEN_AANLEVERING (LKS_AANLEVER_MARGE_DAGEN).
MARGE_DAGEN = 7
# A verwijsindex older than this is VERWIJSINDEX_VEROUDERD (LKS_VERWIJSINDEX_MAX_DAGEN).
VERWIJSINDEX_MAX_DAGEN = 35
# Days between two DKD verzamelbestanden per leverfrequentie; anything else counts as monthly.
TERMIJN_DAGEN = {"wekelijks": 7, "maandelijks": 31}

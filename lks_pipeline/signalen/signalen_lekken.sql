-- rules 5.1, the privacy rule, checked independently of the routing: rows of the day that name
-- a gemeente whose own verwijsindex and DKD data both lack the BSN.
SELECT count(*) AS rijen, list(DISTINCT s.gemeentecode) AS gemeenten
FROM signalen AS s
WHERE s.leverdatum = $dag
  AND s.gemeentecode IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM verwijsindex AS v WHERE v.gemeentecode = s.gemeentecode AND v.bsn = s.bsn
  )
  AND NOT EXISTS (
      SELECT 1 FROM dkd_reintegratie AS d WHERE d.gemeentecode = s.gemeentecode AND d.bsn = s.bsn
  )

-- rules 5.1: the gemeenten whose current verwijsindex or current DKD data holds a BSN of the
-- day's UWV events. Nothing else decides who receives a BSN.
SELECT
    gemeentecode,
    bsn,
    bool_or(via_verwijsindex) AS via_verwijsindex,
    bool_or(via_dkd) AS via_dkd
FROM (
    SELECT v.gemeentecode, v.bsn, true AS via_verwijsindex, false AS via_dkd
    FROM verwijsindex AS v
    WHERE v.bsn IN (SELECT e.bsn FROM uwv_events AS e WHERE e.leverdatum = $dag)
    UNION ALL
    SELECT d.gemeentecode, d.bsn, false AS via_verwijsindex, true AS via_dkd
    FROM dkd_reintegratie AS d
    WHERE d.bsn IN (SELECT e.bsn FROM uwv_events AS e WHERE e.leverdatum = $dag)
)
GROUP BY gemeentecode, bsn

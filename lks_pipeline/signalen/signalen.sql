-- rules 5.2 and 5.3: one row per (UWV event of the day, gemeente it is routed to), and one row
-- without gemeente for an event no gemeente knows. Reads the temp table `routering`.
WITH events AS (
    SELECT
        e.leverdatum,
        e.regel,
        e.uwv_kenmerk,
        e.berichttype,
        e.bsn,
        e.begindatum_zw_uitkering,
        e.einddatum_zw_uitkering,
        CASE e.berichttype
            WHEN 'ZIEK_UIT_DIENST' THEN e.datum_einde_arbeidsverhouding
            ELSE e.begindatum_zw_uitkering
        END AS peildatum
    FROM uwv_events AS e
    WHERE e.leverdatum = $dag
),

-- The window [peildatum - 2 years, peildatum]; 29 February minus two years is 28 February.
venster AS (
    SELECT *, CAST(peildatum - INTERVAL 2 YEAR AS DATE) AS venster_begin
    FROM events
),

gerouteerd AS (
    SELECT v.*, r.gemeentecode, r.via_verwijsindex, r.via_dkd
    FROM venster AS v
    LEFT JOIN routering AS r ON r.bsn = v.bsn
),

-- The gemeenten's DKD facts about the day's BSNs only: the DKD tables hold millions of rows.
dkd_lks AS (
    SELECT gemeentecode, bsn, begindatum, einddatum
    FROM dkd_loonkostensubsidies
    WHERE percentage_loonwaarde IS NOT NULL AND bsn IN (SELECT bsn FROM routering)
),

dkd_inzet AS (
    SELECT DISTINCT gemeentecode, bsn
    FROM dkd_inzetten
    WHERE bsn IN (SELECT bsn FROM routering)
),

dkd_doelgroep AS (
    SELECT d.gemeentecode, d.bsn, d.begindatum, d.einddatum, c.code IS NOT NULL AS lks_code
    FROM dkd_doelgroepen AS d
    LEFT JOIN doelgroepregister_codes AS c ON c.code = d.code
    WHERE d.bsn IN (SELECT bsn FROM routering)
),

-- What the gemeente's own DKD data says about the BSN within the window.
dkd AS (
    SELECT
        g.regel,
        g.gemeentecode,
        EXISTS (
            SELECT 1 FROM dkd_lks AS l
            WHERE l.gemeentecode = g.gemeentecode AND l.bsn = g.bsn
              AND l.begindatum <= g.peildatum
              AND (l.einddatum IS NULL OR l.einddatum >= g.venster_begin)
        ) AS lks_met_loonwaarde,
        EXISTS (
            SELECT 1 FROM dkd_inzet AS i
            WHERE i.gemeentecode = g.gemeentecode AND i.bsn = g.bsn
        ) AS inzet,
        EXISTS (
            SELECT 1 FROM dkd_doelgroep AS d
            WHERE d.gemeentecode = g.gemeentecode AND d.bsn = g.bsn
        ) AS doelgroep_bekend,
        EXISTS (
            SELECT 1 FROM dkd_doelgroep AS d
            WHERE d.gemeentecode = g.gemeentecode AND d.bsn = g.bsn AND d.lks_code
              AND d.begindatum <= g.peildatum
              AND (d.einddatum IS NULL OR d.einddatum >= g.venster_begin)
        ) AS in_populatie
    FROM gerouteerd AS g
    WHERE g.gemeentecode IS NOT NULL
),

-- "Already signalled on an earlier delivery day": gemeld to any gemeente before this day.
eerder_gemeld AS (
    SELECT DISTINCT s.uwv_kenmerk
    FROM signalen AS s
    WHERE s.leverdatum < $dag AND s.uitkomst = 'gemeld'
      AND s.uwv_kenmerk IN (SELECT uwv_kenmerk FROM events)
)

SELECT
    g.leverdatum,
    g.regel,
    g.uwv_kenmerk,
    g.berichttype,
    CASE g.berichttype WHEN 'ZIEK_UIT_DIENST' THEN 'LKS re-integratie' ELSE 'LKS einde zw' END
        AS product,
    g.bsn,
    g.gemeentecode,
    CASE
        WHEN g.gemeentecode IS NULL THEN 'niet_routeerbaar'
        WHEN g.uwv_kenmerk IN (SELECT uwv_kenmerk FROM eerder_gemeld) THEN 'dubbel'
        WHEN g.berichttype = 'EINDE_ZW' AND g.begindatum_zw_uitkering >= DATE '2022-01-01'
            THEN 'na_wetswijziging_2022'
        WHEN d.doelgroep_bekend AND NOT d.in_populatie THEN 'buiten_doelgroep'
        ELSE 'gemeld'
    END AS uitkomst,
    CASE
        WHEN g.gemeentecode IS NULL THEN NULL
        WHEN d.lks_met_loonwaarde THEN 1
        WHEN d.inzet THEN 2
        ELSE 3
    END AS zekerheid,
    coalesce(g.via_verwijsindex, false) AS via_verwijsindex,
    coalesce(g.via_dkd, false) AS via_dkd,
    g.peildatum,
    g.venster_begin,
    -- EINDE_ZW without einddatum: the legal maximum, begindatum + 104 weeks - 1 day (727 days).
    CASE g.berichttype
        WHEN 'EINDE_ZW' THEN coalesce(g.einddatum_zw_uitkering, g.begindatum_zw_uitkering + 727)
    END AS einddatum,
    g.berichttype = 'EINDE_ZW' AND g.einddatum_zw_uitkering IS NULL AS einddatum_afgeleid,
    -- LKS may be withheld up to and including the einddatum and resumes the day after.
    CASE g.berichttype
        WHEN 'EINDE_ZW' THEN coalesce(g.einddatum_zw_uitkering, g.begindatum_zw_uitkering + 727) + 1
    END AS hervatdatum
FROM gerouteerd AS g
LEFT JOIN dkd AS d ON d.regel = g.regel AND d.gemeentecode = g.gemeentecode

-- The signal path of one delivery day as a plain DuckDB SQL script: the benchmarks' yardstick.
-- Written from rules 5 and 6.1 on its own, not from lks_pipeline/sql/, so the comparison is
-- with what a careful analyst would write by hand. Variable: dag (DATE). Leaves the day's
-- decisions in `benchmark_signalen` and its reports' rows in two temp views.

-- The day's events with their peildatum and the start of the two-year window.
CREATE OR REPLACE TEMP TABLE b_events AS
SELECT
    *,
    if(berichttype = 'ZIEK_UIT_DIENST', datum_einde_arbeidsverhouding, begindatum_zw_uitkering)
        AS peil,
    CAST(
        if(berichttype = 'ZIEK_UIT_DIENST', datum_einde_arbeidsverhouding, begindatum_zw_uitkering)
        - INTERVAL 2 YEAR AS DATE
    ) AS van
FROM uwv_events
WHERE leverdatum = getvariable('dag');

-- Who knows each BSN: a gemeente's verwijsindex or its DKD data (rules 5.1).
CREATE OR REPLACE TEMP TABLE b_bekend AS
SELECT gemeentecode, bsn FROM verwijsindex WHERE bsn IN (SELECT bsn FROM b_events)
UNION
SELECT gemeentecode, bsn FROM dkd_reintegratie WHERE bsn IN (SELECT bsn FROM b_events);

CREATE OR REPLACE TABLE benchmark_signalen AS
WITH paar AS (
    SELECT e.regel, e.uwv_kenmerk, e.berichttype, e.bsn, e.peil, e.van,
        e.begindatum_zw_uitkering, b.gemeentecode
    FROM b_events AS e
    LEFT JOIN b_bekend AS b ON b.bsn = e.bsn
),

met_lks AS (
    SELECT DISTINCT p.regel, p.gemeentecode
    FROM paar AS p
    JOIN dkd_loonkostensubsidies AS l ON l.gemeentecode = p.gemeentecode AND l.bsn = p.bsn
    WHERE l.percentage_loonwaarde IS NOT NULL
        AND l.begindatum <= p.peil AND coalesce(l.einddatum, p.peil) >= p.van
),

met_inzet AS (
    SELECT DISTINCT i.gemeentecode, i.bsn
    FROM dkd_inzetten AS i
    WHERE i.bsn IN (SELECT bsn FROM b_events)
),

doelgroep AS (
    SELECT p.regel, p.gemeentecode,
        bool_or(c.code IS NOT NULL AND d.begindatum <= p.peil
            AND coalesce(d.einddatum, p.peil) >= p.van) AS in_populatie
    FROM paar AS p
    JOIN dkd_doelgroepen AS d ON d.gemeentecode = p.gemeentecode AND d.bsn = p.bsn
    LEFT JOIN doelgroepregister_codes AS c ON c.code = d.code
    GROUP BY p.regel, p.gemeentecode
),

al_gemeld AS (
    SELECT DISTINCT uwv_kenmerk
    FROM signalen
    WHERE leverdatum < getvariable('dag') AND uitkomst = 'gemeld'
)

SELECT
    p.regel,
    p.uwv_kenmerk,
    p.bsn,
    p.gemeentecode,
    if(p.berichttype = 'ZIEK_UIT_DIENST', 'Re-integratie_signaalrapport',
        'LKS_einde_zw_signaalrapport') AS rapport,
    CASE
        WHEN p.gemeentecode IS NULL THEN 'niet_routeerbaar'
        WHEN a.uwv_kenmerk IS NOT NULL THEN 'dubbel'
        WHEN p.berichttype = 'EINDE_ZW' AND p.begindatum_zw_uitkering >= DATE '2022-01-01'
            THEN 'na_wetswijziging_2022'
        WHEN d.regel IS NOT NULL AND NOT d.in_populatie THEN 'buiten_doelgroep'
        ELSE 'gemeld'
    END AS uitkomst,
    CASE
        WHEN p.gemeentecode IS NULL THEN NULL
        WHEN l.regel IS NOT NULL THEN 1
        WHEN i.bsn IS NOT NULL THEN 2
        ELSE 3
    END AS zekerheid
FROM paar AS p
LEFT JOIN met_lks AS l ON l.regel = p.regel AND l.gemeentecode = p.gemeentecode
LEFT JOIN met_inzet AS i ON i.gemeentecode = p.gemeentecode AND i.bsn = p.bsn
LEFT JOIN doelgroep AS d ON d.regel = p.regel AND d.gemeentecode = p.gemeentecode
LEFT JOIN al_gemeld AS a ON a.uwv_kenmerk = p.uwv_kenmerk;

-- Each report's rows, formatted, in file order; a cell Excel would read as a formula gets a
-- leading quote. The caller writes them: `run.py` with COPY, `kaal.py` byte for byte as ours.
CREATE OR REPLACE TEMP MACRO veilig(x) AS
    if(left(x, 1) IN ('=', '+', '-', '@', chr(9), chr(13)), '''' || x, x);

CREATE OR REPLACE TEMP VIEW b_rapport_reintegratie AS
    SELECT
        s.gemeentecode,
        veilig(s.bsn) AS "BSN",
        strftime(e.datum_einde_uitkeringsverhouding, '%d-%m-%Y')
            AS "Datum einde uitkeringsverhouding",
        strftime(e.datum_einde_arbeidsverhouding, '%d-%m-%Y') AS "Datum einde arbeidsverhouding",
        strftime(e.datum_eerste_ao_dag, '%d-%m-%Y') AS "Datum eerste AO-dag"
    FROM benchmark_signalen AS s
    JOIN b_events AS e ON e.regel = s.regel
    WHERE s.uitkomst = 'gemeld' AND s.rapport = 'Re-integratie_signaalrapport'
    ORDER BY s.gemeentecode, s.bsn, s.uwv_kenmerk;

CREATE OR REPLACE TEMP VIEW b_rapport_einde_zw AS
    SELECT
        s.gemeentecode,
        veilig(s.bsn) AS "BSN",
        strftime(e.geboortedatum, '%d-%m-%Y') AS "Geboortedatum",
        veilig(e.achternaam) AS "Achternaam",
        veilig(e.voorvoegsel) AS "Voorvoegsel",
        veilig(e.voorletters) AS "Voorletter(s)",
        veilig(e.naam_administratieve_eenheid) AS "Naam administratieve eenheid",
        veilig(e.loonheffingennummer) AS "Loonheffingsnummer",
        CASE s.zekerheid
            WHEN 1 THEN 'Re-integratie inzet met gegevens over Loonkostensubsidie gevonden.'
            WHEN 2 THEN 'Re-integratie inzet gevonden maar (nog) geen gegevens over '
                || 'Loonkostensubsidie bekend.'
            ELSE 'BSN bekend bij GSD.'
        END AS "Zekerheid Loonkostensubsidie",
        NULL AS "Datum ziekmelding",
        strftime(e.begindatum_zw_uitkering, '%d-%m-%Y') AS "Begindatum ZW uitkering",
        NULL AS "Datum betermelding",
        strftime(coalesce(e.einddatum_zw_uitkering, e.begindatum_zw_uitkering + 727), '%d-%m-%Y')
            AS "Einddatum ZW uitkering"
    FROM benchmark_signalen AS s
    JOIN b_events AS e ON e.regel = s.regel
    WHERE s.uitkomst = 'gemeld' AND s.rapport = 'LKS_einde_zw_signaalrapport'
    ORDER BY s.gemeentecode, s.bsn, s.uwv_kenmerk;


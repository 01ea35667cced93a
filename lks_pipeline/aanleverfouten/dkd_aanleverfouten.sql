-- rules 6.3: every gemeente's DKD-aanleverfouten as of $dag, with a toelichting it can act on.
-- "As of $dag": the newest instellingen snapshot, verwijsindex and DKD delivery dated on or
-- before it (`leveringen` keeps every delivery, so a problem is reported on every day until a
-- newer delivery replaces it). Counts over file contents use the snapshot the warehouse holds,
-- when it is dated on or before $dag. No BSN leaves this query: only counts and file names.
-- Parameters: $dag, $marge (grace days), $vi_max_dagen, $versie (current berichtversie).
WITH
inst AS (
    SELECT *, CASE leverfrequentie WHEN 'wekelijks' THEN 7 ELSE 31 END AS termijn_dagen
    FROM dkd_instellingen
    WHERE leverdatum = (SELECT max(leverdatum) FROM dkd_instellingen WHERE leverdatum <= $dag)
),
lev AS (
    SELECT * FROM leveringen
    WHERE feed IN ('verwijsindex', 'dkd_reintegratie') AND gemeentecode IS NOT NULL
      AND leverdatum <= $dag
),
in_beeld AS (
    SELECT gemeentecode FROM inst UNION SELECT gemeentecode FROM lev
),
laatste AS (
    SELECT * FROM lev
    QUALIFY row_number() OVER (
        PARTITION BY gemeentecode, feed ORDER BY leverdatum DESC, verwerkt_op DESC) = 1
),
laatste_geldig AS (
    SELECT * FROM lev WHERE status <> 'afgewezen'
    QUALIFY row_number() OVER (
        PARTITION BY gemeentecode, feed ORDER BY leverdatum DESC, verwerkt_op DESC) = 1
),
webservice AS (
    SELECT * FROM dkd_webservice_bevragingen WHERE dag = $dag
),
fouten AS (
    SELECT i.gemeentecode, 'GEEN_AANLEVERING' AS fouttype, 1 AS aantal,
        CASE WHEN l.leverdatum IS NULL
            THEN format('Nog nooit een DKD-verzamelbestand ontvangen; bij leverfrequentie {} '
                || 'hoort elke {} dagen een levering.', i.leverfrequentie, i.termijn_dagen)
            ELSE format('Laatste DKD-verzamelbestand van {} ({} dagen geleden); bij '
                || 'leverfrequentie {} hoort elke {} dagen een levering ({} dagen marge).',
                strftime(l.leverdatum, '%d-%m-%Y'), $dag - l.leverdatum, i.leverfrequentie,
                i.termijn_dagen, $marge)
        END AS toelichting
    FROM inst AS i
    LEFT JOIN laatste_geldig AS l
        ON l.gemeentecode = i.gemeentecode AND l.feed = 'dkd_reintegratie'
    WHERE i.aanlevermethode = 'verzamelbestand'
      AND (l.leverdatum IS NULL OR $dag - l.leverdatum > i.termijn_dagen + $marge)

    UNION ALL
    SELECT gemeentecode, 'WEBSERVICE_ONBEREIKBAAR', count(*)::INTEGER,
        format('{} van de {} bevraging(en) van {} mislukt na {} poging(en): {}. Zorg dat de '
            || 'webservice bereikbaar is.', count(*),
            any_value(totaal), any_value(url), max(pogingen), min(fout))
    FROM (SELECT *, count(*) OVER (PARTITION BY gemeentecode) AS totaal FROM webservice)
    WHERE status = 'onbereikbaar'
    GROUP BY gemeentecode

    UNION ALL
    SELECT b.gemeentecode, 'VERWIJSINDEX_ONTBREEKT', 1,
        'Er is nog nooit een verwijsindex ontvangen; zonder verwijsindex krijgt uw gemeente '
            || 'alleen signalen over cliënten met DKD-gegevens.'
    FROM in_beeld AS b
    WHERE NOT EXISTS (
        SELECT 1 FROM laatste_geldig AS l
        WHERE l.gemeentecode = b.gemeentecode AND l.feed = 'verwijsindex')

    UNION ALL
    SELECT gemeentecode, 'VERWIJSINDEX_VEROUDERD', 1,
        format('De nieuwste verwijsindex ({}) is van {}, {} dagen oud; lever minstens elke {} '
            || 'dagen een nieuwe.', bestand, strftime(leverdatum, '%d-%m-%Y'),
            $dag - leverdatum, $vi_max_dagen)
    FROM laatste_geldig
    WHERE feed = 'verwijsindex' AND $dag - leverdatum > $vi_max_dagen

    UNION ALL
    SELECT d.gemeentecode, 'VERWIJSINDEX_ONVOLLEDIG', count(DISTINCT d.bsn)::INTEGER,
        format('{} BSN(s) uit uw DKD-gegevens staan niet in uw verwijsindex; neem iedere '
            || 'cliënt met een re-integratie-inzet op in de verwijsindex.', count(DISTINCT d.bsn))
    FROM dkd_reintegratie AS d
    WHERE d.leverdatum <= $dag
      AND EXISTS (SELECT 1 FROM verwijsindex AS v
          WHERE v.gemeentecode = d.gemeentecode AND v.leverdatum <= $dag)
      AND NOT EXISTS (SELECT 1 FROM verwijsindex AS v
          WHERE v.gemeentecode = d.gemeentecode AND v.bsn = d.bsn)
    GROUP BY d.gemeentecode

    UNION ALL
    SELECT gemeentecode, 'BERICHT_ONGELDIG', 1,
        format('Het DKD-bestand {} is afgewezen: {}. Lever een gecorrigeerd bestand.',
            bestand, reden)
    FROM laatste
    WHERE feed = 'dkd_reintegratie' AND status = 'afgewezen'

    UNION ALL
    SELECT l.gemeentecode, 'BERICHT_ONGELDIG', l.regels_gequarantaineerd,
        format('{} Client(s) in {} in quarantaine; eerste reden (regel {}): {}.',
            l.regels_gequarantaineerd, l.bestand, q.regel, q.reden)
    FROM laatste_geldig AS l
    JOIN (
        SELECT * FROM quarantaine WHERE feed = 'dkd_reintegratie'
        QUALIFY row_number() OVER (PARTITION BY bestand ORDER BY regel NULLS FIRST) = 1
    ) AS q ON q.bestand = l.bestand
    WHERE l.feed = 'dkd_reintegratie' AND l.regels_gequarantaineerd > 0

    UNION ALL
    SELECT w.gemeentecode, 'BERICHT_ONGELDIG',
        (sum(CASE WHEN w.status = 'ongeldig' THEN 1 ELSE w.in_quarantaine END))::INTEGER,
        format('Antwoord(en) van de DKD-webservice afgewezen of deels in quarantaine; eerste '
            || 'reden: {}.', any_value(q.reden))
    FROM webservice AS w
    LEFT JOIN (  -- the day's first reason per gemeente: one row, so no batch counts twice
        SELECT * FROM quarantaine WHERE feed = 'dkd_webservice' AND leverdatum = $dag
        QUALIFY row_number() OVER (
            PARTITION BY gemeentecode ORDER BY bestand, regel NULLS FIRST) = 1
    ) AS q ON q.gemeentecode = w.gemeentecode
    WHERE w.status = 'ongeldig' OR w.in_quarantaine > 0
    GROUP BY w.gemeentecode

    UNION ALL
    SELECT gemeentecode, 'BERICHTVERSIE_VEROUDERD', 1,
        format('Uw DKD-bestand {} heeft berichtversie {}; verwacht wordt {}.',
            bestand, berichtversie, $versie)
    FROM laatste_geldig
    WHERE feed = 'dkd_reintegratie' AND berichtversie <> $versie

    UNION ALL
    SELECT gemeentecode, 'BERICHTVERSIE_VEROUDERD', 1,
        format('In uw instellingen staat berichtversie {}; verwacht wordt {}.',
            berichtversie, $versie)
    FROM inst
    WHERE berichtversie <> $versie

    UNION ALL
    SELECT gemeentecode, 'URL_VERSIE_MISMATCH', 1,
        format('De webservice-url {} eindigt niet op /{}, de berichtversie uit uw instellingen.',
            url, berichtversie)
    FROM inst
    WHERE aanlevermethode = 'webservice' AND NOT ends_with(url, '/' || berichtversie)

    UNION ALL
    SELECT s.gemeentecode, 'LOONWAARDE_ONTBREEKT', count(*)::INTEGER,
        format('{} loonkostensubsidie(s) zonder PercentageLoonwaarde; zonder percentage kan '
            || 'een signaal niet de hoogste zekerheid (1) krijgen.', count(*))
    FROM dkd_loonkostensubsidies AS s
    JOIN dkd_reintegratie AS d USING (gemeentecode, bsn, bron)
    WHERE d.leverdatum <= $dag AND s.percentage_loonwaarde IS NULL
    GROUP BY s.gemeentecode

    UNION ALL
    SELECT gemeentecode, 'BSN_ONGELDIG', count(*)::INTEGER,
        format('{} ongeldig(e) BSN(s) (elfproef) in {}; corrigeer ze bij de volgende levering.',
            count(*), string_agg(DISTINCT bestand, ', ' ORDER BY bestand))
    FROM (
        SELECT q.gemeentecode, q.bestand FROM quarantaine AS q
        JOIN laatste AS l ON l.feed = q.feed AND l.bestand = q.bestand
        WHERE lower(q.reden) LIKE 'bsn: geen geldig%'
        UNION ALL
        SELECT gemeentecode, bestand FROM quarantaine
        WHERE feed = 'dkd_webservice' AND leverdatum = $dag
          AND lower(reden) LIKE 'bsn: geen geldig%'
    )
    GROUP BY gemeentecode

    UNION ALL
    SELECT b.gemeentecode, 'INSTELLINGEN_ONTBREKEN', 1,
        'Er zijn leveringen van uw gemeente maar geen instellingen voor het Reintegratie-cluster; '
            || 'lever aanlevermethode, berichtversie, leverfrequentie en notificatie_email aan.'
    FROM in_beeld AS b
    WHERE b.gemeentecode NOT IN (SELECT gemeentecode FROM inst)

    UNION ALL
    SELECT gemeentecode, 'INSTELLINGEN_ONTBREKEN', 1,
        'In uw instellingen ontbreekt notificatie_email: signaalrapporten staan klaar zonder '
            || 'dat iemand bericht krijgt.'
    FROM inst
    WHERE nullif(trim(notificatie_email), '') IS NULL
)
SELECT $dag AS dag, gemeentecode, fouttype, sum(aantal)::INTEGER AS aantal,
    string_agg(toelichting, ' ' ORDER BY toelichting) AS toelichting
FROM fouten
WHERE gemeentecode IN (SELECT gemeentecode FROM in_beeld)
GROUP BY gemeentecode, fouttype
ORDER BY gemeentecode, fouttype

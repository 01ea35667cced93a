-- Signals per (event, gemeente) and the Poortwachter deadlines; views for analysts.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS signalen (
    leverdatum DATE NOT NULL, regel INTEGER NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    berichttype VARCHAR NOT NULL, product VARCHAR NOT NULL, bsn VARCHAR NOT NULL,
    gemeentecode VARCHAR, uitkomst VARCHAR NOT NULL, zekerheid TINYINT,
    via_verwijsindex BOOLEAN NOT NULL, via_dkd BOOLEAN NOT NULL, peildatum DATE NOT NULL,
    venster_begin DATE NOT NULL, einddatum DATE, einddatum_afgeleid BOOLEAN NOT NULL,
    hervatdatum DATE);
CREATE TABLE IF NOT EXISTS poortwachter_termijnen (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    bsn VARCHAR NOT NULL, datum_eerste_ao_dag DATE NOT NULL, week INTEGER NOT NULL,
    mijlpaal VARCHAR NOT NULL, uiterste_datum DATE NOT NULL);
CREATE OR REPLACE VIEW niet_routeerbaar_per_dag AS
    SELECT leverdatum, count(DISTINCT regel) AS events,
        count(DISTINCT regel) FILTER (WHERE uitkomst = 'niet_routeerbaar') AS niet_routeerbaar,
        round(100.0 * count(DISTINCT regel) FILTER (WHERE uitkomst = 'niet_routeerbaar')
            / count(DISTINCT regel), 1) AS percentage
    FROM signalen
    GROUP BY leverdatum;
CREATE OR REPLACE VIEW zekerheid_per_gemeente AS
    SELECT s.gemeentecode, any_value(g.gemeentenaam) AS gemeentenaam, count(*) AS gemeld,
        count(*) FILTER (WHERE s.zekerheid = 1) AS zekerheid_1,
        count(*) FILTER (WHERE s.zekerheid = 2) AS zekerheid_2,
        count(*) FILTER (WHERE s.zekerheid = 3) AS zekerheid_3,
        round(100.0 * count(*) FILTER (WHERE s.zekerheid = 1) / count(*), 1)
            AS percentage_zekerheid_1
    FROM signalen AS s
    LEFT JOIN gemeenten AS g ON g.gemeentecode = s.gemeentecode
    WHERE s.uitkomst = 'gemeld'
    GROUP BY s.gemeentecode;

-- What the feeds delivered: one table per feed, plus every delivered file (leveringen) and
-- every rejected row, Client or file (quarantaine). Views for analysts: the current instellingen
-- and how old each verwijsindex is.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS dkd_instellingen (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, aanlevermethode VARCHAR NOT NULL,
    berichtversie VARCHAR NOT NULL, url VARCHAR, leverfrequentie VARCHAR,
    notificatie_email VARCHAR, bestand VARCHAR NOT NULL);
CREATE OR REPLACE VIEW dkd_instellingen_actueel AS
    SELECT * EXCLUDE (bestand) FROM dkd_instellingen
    WHERE leverdatum = (SELECT max(leverdatum) FROM dkd_instellingen);
CREATE TABLE IF NOT EXISTS verwijsindex (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, cluster VARCHAR NOT NULL,
    leverdatum DATE NOT NULL, bestand VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS dkd_reintegratie (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    leverdatum DATE NOT NULL, berichtversie VARCHAR NOT NULL, aanmaakdatum DATE,
    bestand VARCHAR NOT NULL, regel INTEGER);
CREATE TABLE IF NOT EXISTS dkd_doelgroepen (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    code VARCHAR NOT NULL, begindatum DATE NOT NULL, einddatum DATE);
CREATE TABLE IF NOT EXISTS dkd_inzetten (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    inzet_nr INTEGER NOT NULL, soort VARCHAR NOT NULL, begindatum DATE NOT NULL, einddatum DATE);
CREATE TABLE IF NOT EXISTS dkd_loonkostensubsidies (
    gemeentecode VARCHAR NOT NULL, bsn VARCHAR NOT NULL, bron VARCHAR NOT NULL,
    inzet_nr INTEGER NOT NULL, begindatum DATE NOT NULL, einddatum DATE,
    percentage_loonwaarde DOUBLE, loonheffingennummer_werkgever VARCHAR);
CREATE TABLE IF NOT EXISTS uwv_events (
    leverdatum DATE NOT NULL, regel INTEGER NOT NULL, uwv_kenmerk VARCHAR NOT NULL,
    berichttype VARCHAR NOT NULL, bsn VARCHAR NOT NULL, geboortedatum DATE,
    achternaam VARCHAR, voorvoegsel VARCHAR, voorletters VARCHAR,
    naam_administratieve_eenheid VARCHAR, loonheffingennummer VARCHAR,
    loonheffingennummer_geldig BOOLEAN, datum_eerste_ao_dag DATE,
    datum_einde_arbeidsverhouding DATE, datum_einde_uitkeringsverhouding DATE,
    begindatum_zw_uitkering DATE, einddatum_zw_uitkering DATE, bestand VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS leveringen (
    feed VARCHAR NOT NULL, bestand VARCHAR NOT NULL, gemeentecode VARCHAR, leverdatum DATE,
    sha256 VARCHAR, grootte BIGINT, mtime_ns BIGINT, status VARCHAR NOT NULL,
    regels_geladen INTEGER NOT NULL,
    regels_gequarantaineerd INTEGER NOT NULL, berichtversie VARCHAR, reden VARCHAR,
    verwerkt_op TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS quarantaine (
    feed VARCHAR NOT NULL, bestand VARCHAR NOT NULL, gemeentecode VARCHAR, leverdatum DATE,
    regel INTEGER, bsn_gemaskeerd VARCHAR, reden VARCHAR NOT NULL);
CREATE OR REPLACE VIEW verwijsindex_actualiteit AS
    SELECT v.gemeentecode, any_value(g.gemeentenaam) AS gemeentenaam,
        any_value(v.bestand) AS bestand, max(v.leverdatum) AS leverdatum,
        count(*) AS rijen, count(DISTINCT v.bsn) AS bsns,
        current_date - max(v.leverdatum) AS dagen_oud
    FROM verwijsindex AS v
    LEFT JOIN gemeenten AS g ON g.gemeentecode = v.gemeentecode
    GROUP BY v.gemeentecode;

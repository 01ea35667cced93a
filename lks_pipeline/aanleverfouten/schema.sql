-- DKD-aanleverfouten per day, and the newest state per gemeente for analysts.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS dkd_aanleverfouten (
    dag DATE NOT NULL, gemeentecode VARCHAR NOT NULL, fouttype VARCHAR NOT NULL,
    aantal INTEGER NOT NULL, toelichting VARCHAR NOT NULL);
-- `sinds`: the first day of the unbroken run of days, ending today, on which the fouttype held.
CREATE OR REPLACE VIEW dkd_aanleverfouten_actueel AS
    WITH reeksen AS (
        SELECT gemeentecode, fouttype, dag,
            dag - CAST(row_number() OVER (PARTITION BY gemeentecode, fouttype ORDER BY dag)
                AS INTEGER) AS reeks
        FROM dkd_aanleverfouten)
    SELECT a.dag, a.gemeentecode, g.gemeentenaam, a.fouttype, a.aantal, a.toelichting,
        (SELECT count(*) FROM dkd_aanleverfouten AS b
            WHERE b.gemeentecode = a.gemeentecode AND b.fouttype = a.fouttype
              AND b.dag > a.dag - 30 AND b.dag <= a.dag) AS dagen_in_laatste_30,
        (SELECT min(r.dag) FROM reeksen AS r
            WHERE r.gemeentecode = a.gemeentecode AND r.fouttype = a.fouttype
              AND r.reeks = (SELECT q.reeks FROM reeksen AS q WHERE q.gemeentecode = a.gemeentecode
                  AND q.fouttype = a.fouttype AND q.dag = a.dag)) AS sinds
    FROM dkd_aanleverfouten AS a
    LEFT JOIN gemeenten AS g ON g.gemeentecode = a.gemeentecode
    WHERE a.dag = (SELECT max(dag) FROM dkd_aanleverfouten);

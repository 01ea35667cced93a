-- The notification ledger, one row per report content; the view of what is still open.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS notificaties (
    bestand VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, leverdatum DATE NOT NULL,
    gemeentecode VARCHAR NOT NULL, product VARCHAR NOT NULL, aantal INTEGER NOT NULL,
    status VARCHAR NOT NULL, ontvanger VARCHAR, kanaal VARCHAR, message_id VARCHAR,
    pogingen INTEGER NOT NULL, laatste_fout VARCHAR, aangemaakt_op TIMESTAMP NOT NULL,
    verzonden_op TIMESTAMP);
CREATE OR REPLACE VIEW notificaties_open AS
    SELECT gemeentecode, bestand, leverdatum, status, pogingen, laatste_fout
    FROM notificaties
    WHERE status IN ('te_verzenden', 'geen_adres');

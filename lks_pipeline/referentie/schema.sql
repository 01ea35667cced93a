-- Reference tables, loaded whole from the package.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS gemeenten (
    gemeentecode VARCHAR NOT NULL, gemeentenaam VARCHAR NOT NULL, provincie VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS doelgroepregister_codes (
    code VARCHAR NOT NULL, doelgroep VARCHAR NOT NULL);

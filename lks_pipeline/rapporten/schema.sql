-- One row per signaalrapport file: where it is and the sha256 of its bytes.
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS signaalrapporten (
    leverdatum DATE NOT NULL, gemeentecode VARCHAR NOT NULL, product VARCHAR NOT NULL,
    bestand VARCHAR NOT NULL, pad VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
    aantal INTEGER NOT NULL, geschreven_op TIMESTAMP NOT NULL);

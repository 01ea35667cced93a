-- One row per DKD webservice batch (the answers go to the dkd_* tables with bron webservice).
-- Idempotent; run outside any data transaction (core/warehouse.py).
CREATE TABLE IF NOT EXISTS dkd_webservice_bevragingen (
    dag DATE NOT NULL, gemeentecode VARCHAR NOT NULL, batch INTEGER NOT NULL, url VARCHAR NOT NULL,
    bsns INTEGER NOT NULL, status VARCHAR NOT NULL, pogingen INTEGER NOT NULL,
    http_status INTEGER, fout VARCHAR, clients INTEGER NOT NULL, in_quarantaine INTEGER NOT NULL,
    berichtversie VARCHAR, gevraagd_op TIMESTAMP NOT NULL);

-- Bring the mail ledger up to date with the report records (rules 6.2), in one transaction.
-- Keyed on (bestand, sha256): a report rewritten with the same bytes adds nothing, a changed
-- report adds one row. A pending row whose bytes are no longer the current file's is 'vervallen'
-- (the newer bytes get their own row); it comes back if the file returns to those bytes.
INSERT INTO notificaties BY NAME
SELECT r.bestand, r.sha256, r.leverdatum, r.gemeentecode, r.product, r.aantal,
       'te_verzenden' AS status, 0 AS pogingen, $nu AS aangemaakt_op
FROM signaalrapporten AS r
WHERE NOT EXISTS (
    SELECT 1 FROM notificaties AS n WHERE n.bestand = r.bestand AND n.sha256 = r.sha256
);

UPDATE notificaties AS n SET status = 'vervallen'
WHERE n.status IN ('te_verzenden', 'geen_adres') AND NOT EXISTS (
    SELECT 1 FROM signaalrapporten AS r WHERE r.bestand = n.bestand AND r.sha256 = n.sha256
);

UPDATE notificaties AS n SET status = 'te_verzenden'
WHERE n.status = 'vervallen' AND EXISTS (
    SELECT 1 FROM signaalrapporten AS r WHERE r.bestand = n.bestand AND r.sha256 = n.sha256
);

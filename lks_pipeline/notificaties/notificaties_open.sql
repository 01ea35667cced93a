-- Every notification still to send, with what the mail needs: the gemeente's current address
-- (newest instellingen; NULL when it has none), its name, the report's path, and whether an
-- earlier version of the same file was already announced.
SELECT n.bestand, n.sha256, n.leverdatum, n.gemeentecode, coalesce(g.gemeentenaam, '') AS naam,
       n.product, n.aantal, r.pad, nullif(trim(i.notificatie_email), '') AS ontvanger,
       EXISTS (
           SELECT 1 FROM notificaties AS o
           WHERE o.bestand = n.bestand AND o.sha256 <> n.sha256 AND o.status = 'verzonden'
       ) AS vervangt_eerdere
FROM notificaties AS n
JOIN signaalrapporten AS r ON r.bestand = n.bestand AND r.sha256 = n.sha256
LEFT JOIN gemeenten AS g ON g.gemeentecode = n.gemeentecode
LEFT JOIN dkd_instellingen_actueel AS i ON i.gemeentecode = n.gemeentecode
WHERE n.status IN ('te_verzenden', 'geen_adres')
ORDER BY n.leverdatum, n.gemeentecode, n.product

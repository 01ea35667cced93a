-- rules 5.4: Wet verbetering poortwachter deadlines for each gemeld ZIEK_UIT_DIENST signal.
-- Week n counts from datum_eerste_ao_dag (day 1 of week 1): its last day is eerste + 7n - 1.
SELECT
    s.leverdatum,
    s.gemeentecode,
    s.uwv_kenmerk,
    s.bsn,
    e.datum_eerste_ao_dag,
    m.week,
    m.mijlpaal,
    e.datum_eerste_ao_dag + (7 * m.week - 1) AS uiterste_datum
FROM signalen AS s
JOIN uwv_events AS e ON e.leverdatum = s.leverdatum AND e.regel = s.regel
CROSS JOIN (
    VALUES
        (6, 'probleemanalyse'),
        (8, 'plan van aanpak'),
        (26, 'evaluatie/herijking'),
        (52, 'evaluatie/herijking'),
        (78, 'evaluatie/herijking'),
        (91, 're-integratieverslag')
) AS m (week, mijlpaal)
WHERE s.leverdatum = $dag
  AND s.uitkomst = 'gemeld'
  AND s.berichttype = 'ZIEK_UIT_DIENST'

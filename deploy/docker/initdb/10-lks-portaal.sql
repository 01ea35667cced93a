-- The gemeenteportaal's own database (LKS_PORTAAL_DATABASE_URL), created on the postgres
-- service's first start, owned by the same user as Dagster's.
CREATE DATABASE lks_portaal;

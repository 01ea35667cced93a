"""The gemeenteportaal (rules 8): where gemeente staff log in and fetch their signaalrapporten.

A server-rendered Django application. It reads the analysts' copy (`lks_analyse.duckdb`) and the
report files, and writes only its own database (users, second factors, hidden reports, the audit
log); it never opens the live warehouse, so a pipeline run never waits for it.

Decisions where the spec is silent, written here so they are found with the code:
- Django 5.2 (LTS until April 2028): Django 6 needs Python 3.12 and the project runs on 3.11.
  Content-Security-Policy comes from django-csp, because 5.2 has no CSP of its own.
- A report's address is its file name under its product (`/ophalen/<product>/<Titel>`): the
  file name is what the seeds show, and it is looked up only in the pipeline's record for the
  user's own gemeente, never used as a path.
- "Verwijder geselecteerd" hides a report's *content* (file name and sha256) for the whole
  gemeente: a report that the pipeline rewrites with other signals is announced again by mail
  and so shows again.
- A report whose bytes no longer match its recorded sha256 is not sent (HTTP 503, "probeer het
  later opnieuw"): the pipeline is rewriting it, and the next published copy will match.
- Accounts lock per user name, not per address: gemeente staff often share one outgoing address.
- Inlichtingenbureau staff have no gemeente: they work in the admin (`/beheer/`), never on a
  gemeente's pages, which answer them 404 like any other page that is not theirs.
"""

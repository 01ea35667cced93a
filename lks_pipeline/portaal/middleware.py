"""Two small middlewares: no page is cached, and every refusal is audited (rules 8.3)."""

from django.utils.cache import add_never_cache_headers

from lks_pipeline.portaal import audit


def no_store(get_response):
    """`Cache-Control: no-store` on every response but static files: each page is personal."""

    def middleware(request):
        response = get_response(request)
        add_never_cache_headers(response)
        return response

    return middleware


def audit_refusals(get_response):
    """Write every 403 and 404 to the audit log, with the (masked) path that was asked for."""

    def middleware(request):
        response = get_response(request)
        if response.status_code in (403, 404):
            audit.record(request, "geweigerd", str(response.status_code), object=request.path)
        return response

    return middleware

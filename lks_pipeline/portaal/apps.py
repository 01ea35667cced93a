"""The portal as a Django app."""

from django.apps import AppConfig


class PortaalConfig(AppConfig):
    """Label `portaal`: its tables are `portaal_*` in the portal's own database."""

    name = "lks_pipeline.portaal"
    label = "portaal"
    verbose_name = "Gemeenteportaal"
    default_auto_field = "django.db.models.BigAutoField"

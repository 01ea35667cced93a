"""The WSGI application that gunicorn serves (`lks-pipeline portaal`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lks_pipeline.portaal.settings")
application = get_wsgi_application()

"""Django settings of the portal, from the environment (rules 8.3, 8.4; docs/portaal.md).

Every value has a working default for the demo. Production sets `LKS_PORTAAL_HTTPS=1` (behind a
TLS-terminating proxy), `LKS_PORTAAL_URL`, `LKS_PORTAAL_DATABASE_URL` and a secret key.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.management.utils import get_random_secret_key

from lks_pipeline.aanleverfouten import drempels
from lks_pipeline.core.files import private_folder
from lks_pipeline.core.settings import analyse_path, data_root, env_flag, env_float
from lks_pipeline.notificaties import message

DATA_ROOT = data_root()
ANALYSE_PATH = analyse_path()
PORTAAL_DIR = DATA_ROOT / "portaal"
PORTAAL_URL = os.environ.get("LKS_PORTAAL_URL", message.PORTAAL_URL)
HTTPS = env_flag("LKS_PORTAAL_HTTPS", False)
# The thresholds the dashboard's "next delivery expected" uses, as the aanleverfouten do.
VERWIJSINDEX_MAX_DAGEN = int(
    os.environ.get("LKS_VERWIJSINDEX_MAX_DAGEN", drempels.VERWIJSINDEX_MAX_DAGEN)
)
AANLEVER_MARGE_DAGEN = int(os.environ.get("LKS_AANLEVER_MARGE_DAGEN", drempels.MARGE_DAGEN))
# Aanleveren: the largest file the portal takes (the TLS proxy's limit must be as large).
MAX_UPLOAD_BYTES = int(os.environ.get("LKS_PORTAAL_MAX_UPLOAD_MB", "1024")) * 1024 * 1024
# Activation links and the notifications leave over the same channel (rules 6.2, 8.1).
SMTP_HOST = os.environ.get("LKS_SMTP_HOST", "")
SMTP_PORT = int(os.environ.get("LKS_SMTP_PORT", "587"))
SMTP_STARTTLS = env_flag("LKS_SMTP_STARTTLS", True)
SMTP_USER = os.environ.get("LKS_SMTP_USER", "")
SMTP_PASSWORD = os.environ.get("LKS_SMTP_PASSWORD", "")
SMTP_TIMEOUT = env_float("LKS_SMTP_TIMEOUT", 30.0)
MAIL_FROM = os.environ.get("LKS_MAIL_FROM", "lks-signalen@localhost")


def secret_key(folder: Path) -> str:
    """LKS_PORTAAL_SECRET_KEY, or a key generated once and kept 0600 under the data root."""
    if key := os.environ.get("LKS_PORTAAL_SECRET_KEY", "").strip():
        return key
    path = private_folder(folder) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if not key:
            raise RuntimeError(
                f"{path} is leeg: verwijder het, dan maakt het portaal een nieuwe"
            ) from None
        return key
    with os.fdopen(fd, "w") as f:
        f.write(get_random_secret_key())
        f.flush()
        os.fsync(f.fileno())
    return path.read_text().strip()


SECRET_KEY = secret_key(PORTAAL_DIR)
DEBUG = False
_public_host = urlsplit(PORTAAL_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = sorted({_public_host, "127.0.0.1", "localhost"})
CSRF_TRUSTED_ORIGINS = [f"{urlsplit(PORTAAL_URL).scheme}://{urlsplit(PORTAAL_URL).netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "lks_pipeline.portaal",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "lks_pipeline.portaal.middleware.no_store",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "lks_pipeline.portaal.middleware.audit_refusals",
    "axes.middleware.AxesMiddleware",
]
ROOT_URLCONF = "lks_pipeline.portaal.urls"
WSGI_APPLICATION = "lks_pipeline.portaal.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("LKS_PORTAAL_DATABASE_URL")
        or f"sqlite:///{PORTAAL_DIR / 'portaal.sqlite3'}",
        conn_max_age=60,
    )
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "lks_pipeline.portaal.gebruikers.MinimaleLengte",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portaal:inloggen"
# An activation link (Django's password-reset token) is valid 72 hours and only until the
# password is set: the token covers the password hash, so using it once ends it (rules 8.1).
PASSWORD_RESET_TIMEOUT = 72 * 3600

# Uploads stream to a private staging file under the data root (never memory), capped in
# size; `aanleveren.Ontvangst` does both. The inbox is on the same file system, so an accepted
# file is renamed into it, not copied.
FILE_UPLOAD_HANDLERS = ["lks_pipeline.portaal.aanleveren.Ontvangst"]

# django-axes: five failures lock the user name for 15 minutes, whatever the address.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "lks_pipeline.portaal.views.geblokkeerd"
AXES_CLIENT_IP_CALLABLE = "lks_pipeline.portaal.audit.client_address"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "LKS gemeenteportaal"

SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "lks_pipeline.portaal.views.csrf_geweigerd"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "nl"
# Dutch only, whatever the browser asks: Django's own messages (password rules) included.
LANGUAGES = [("nl", "Nederlands")]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
# WhiteNoise serves the few files (one stylesheet, the admin's) straight from the installed
# packages: no collectstatic step and no writable static folder on the server.
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Logs to standard error, with every number that could be a BSN masked (a typed address can
# hold one); 404s are in the audit log, so Django's own "Not Found" lines are left out.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"bsn": {"()": "lks_pipeline.portaal.privacy.MaskNumbers"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "filters": ["bsn"]}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING"},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "lks_pipeline.portaal": {"handlers": ["stderr"], "level": "INFO"},
    },
}

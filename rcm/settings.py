"""Settings for RCM, read from environment variables (see README "Configuration").

With no configuration at all the app runs on SQLite and a file-system Celery broker under
``var/``, so a bare machine can run web, worker and beat. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` (or ``REDIS_URL``) switch to PostgreSQL and Redis.
"""

import datetime
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from rcm.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("RCM_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)

SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random string "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "rcm.apps.RcmAdminConfig",  # django.contrib.admin, inside tenancy (rcm/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rcm",
    "claims",
    "denials",
    "payment_plans",
    "kpis",
    "devdata",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "rcm.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "rcm.middleware.CurrentPracticeMiddleware",
    "rcm.signin.SessionPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rcm.urls"
WSGI_APPLICATION = "rcm.wsgi.application"
ASGI_APPLICATION = "rcm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rcm.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rcm.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if envbool("DATABASE_POOL", True):
        # psycopg 3's pool; Django requires CONN_MAX_AGE = 0 with it.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": envint("DATABASE_POOL_MIN", 1),
            "max_size": envint("DATABASE_POOL_MAX", 10),
            "timeout": 10,
        }
    if not envbool("DATABASE_JIT", False):
        # JIT compilation pays off for long analytic queries, not for pages: PostgreSQL's cost threshold
        # made it compile list and drill-down queries, adding 30 ms to a 60 ms query (docs/benchmarks.md).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    DATABASES["default"].setdefault("TEST", {})["NAME"] = envstr("DATABASE_TEST_NAME", "") or None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (``Index(include=...)``) are a PostgreSQL optimisation; on SQLite Django builds the
# same index without the included columns and says so with models.W040.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Optional read replica for dashboards (docs/scale-out.md). Unset: one database, no router, as before.
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICA_APPS = envlist("DATABASE_REPLICA_APPS", ["kpis"])
    DATABASE_ROUTERS = ["rcm.db_router.ReplicaRouter"]

AUTH_USER_MODEL = "rcm.User"
# django-axes first: it refuses a locked-out username from that address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout (django-axes): 5 failures for one username from one address lock that pair out for 15
# minutes, whatever the password tried next; a success clears the count. The address is the one the audit
# log takes (``RCM_TRUSTED_PROXIES``). Our audit log records each sign-in, so axes keeps no access log.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "rcm.middleware.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# A session with no request for this long is signed out (each practice sets its own: idle_timeout_minutes).
RCM_IDLE_TIMEOUT_MINUTES = envint("RCM_IDLE_TIMEOUT_MINUTES", 15)
# API tokens expire this many days after they are issued.
RCM_API_TOKEN_DAYS = envint("RCM_API_TOKEN_DAYS", 90)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))  # the image keeps its own (Dockerfile)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and envbool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = envstr("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "RCM <billing@localhost>")

# --- Text messages (payment reminders) ------------------------------------------------------------
# The file backend appends each message to var/sms/outbox.jsonl (development, demo); the Twilio backend
# sends through its REST API with the account's SID and token.
SMS_BACKEND = envstr("SMS_BACKEND", "payment_plans.reminders.sms.FileSmsBackend")
SMS_FILE_PATH = envstr("SMS_FILE_PATH", str(VAR_DIR / "sms" / "outbox.jsonl"))
SMS_FROM_NUMBER = envstr("SMS_FROM_NUMBER")
SMS_TWILIO_ACCOUNT_SID = envstr("SMS_TWILIO_ACCOUNT_SID")
SMS_TWILIO_AUTH_TOKEN = envstr("SMS_TWILIO_AUTH_TOKEN")

# --- Security (production) ------------------------------------------------------------------
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", False) else None
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere (rcm.middleware.SecurityHeadersMiddleware); data: images for the admin's
# and Swagger UI's icons. Empty turns the header off.
RCM_CONTENT_SECURITY_POLICY = envstr(
    "RCM_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# The OpenAPI schema and its documentation page: signed-in users only, unless this is on.
RCM_API_DOCS_PUBLIC = envbool("RCM_API_DOCS_PUBLIC", False)

# --- Cache ----------------------------------------------------------------------------------
# Whole-practice aggregates (status counts, A/R) are cached until the practice's claims change
# (``rcm.practice_cache``). Redis when the app has one (REDIS_URL, or a redis:// broker), shared by every
# web and worker process; otherwise files under var/ (shared by the processes of one machine).
_CACHE_REDIS = envstr("REDIS_URL") or (
    envstr("CELERY_BROKER_URL") if envstr("CELERY_BROKER_URL").startswith(("redis://", "rediss://")) else ""
)
if _CACHE_REDIS:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_REDIS,
            "KEY_PREFIX": "rcm-cache",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ---------------------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or envstr("REDIS_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
    _default_results = f"file://{VAR_DIR / 'celery-results'}"
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", _default_results)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The token first: a missing or bad token answers 401 with ``WWW-Authenticate: Token``.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rcm.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Throttles: anonymous requests (bad tokens included) by address, signed-in users by user.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": envstr("API_THROTTLE_ANON", "30/minute"),
        "user": envstr("API_THROTTLE_USER", "1200/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rcm.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "rcm.api.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # DRF's parsers, with a JSON parser that answers 400 to a body nested too deeply (RecursionError).
    "DEFAULT_PARSER_CLASSES": [
        "rcm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RCM API",
    "DESCRIPTION": "Revenue cycle management: patients, payers, claims, the ledger and the work that "
    "follows. Every request acts within one practice: the X-Practice header (a practice slug) picks it, "
    "else the user's first practice.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-spectacular's enum hook, then ours: every paginated list documents its 400 for a missing page,
    # every signed-in operation its 401 and 429.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rcm.api.schema.document_page_errors",
        "rcm.api.schema.document_practice_errors",
        "rcm.api.schema_hooks.document_authentication_errors",
    ],
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny"
        if RCM_API_DOCS_PUBLIC
        else "rest_framework.permissions.IsAuthenticated"
    ],
}

# --- Logging: no PHI in logs; request paths carry ids only (no names, no query strings). ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusals_on_one_line": {"()": "rcm.log_filters.RefusalsOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every django.* record a second time: the root's is enough.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; the audit log already records them.
        "axes": {"level": "WARNING"},
        # WeasyPrint reports each step of each PDF at INFO (thousands of lines in a statement run); its
        # warnings (a style it cannot apply, a missing font) still show.
        "weasyprint": {"level": "WARNING"},
        # A 403 or 404 is an answer, not a failure: one line, no traceback (5xx keep theirs).
        "django.request": {"filters": ["refusals_on_one_line"]},
    },
}

# --- Product settings -----------------------------------------------------------------------
RCM_HEALTHCHECK_TIMEOUT = envint("RCM_HEALTHCHECK_TIMEOUT", 3)
# X12 files up to this many characters are checked by pyx12 while they are imported; larger ones (seconds
# per megabyte) are posted at once and checked by a worker.
RCM_INLINE_VALIDATION_CHARS = envint("RCM_INLINE_VALIDATION_CHARS", 200_000)
# The largest X12 file the upload page and the API take (one limit for both), in MB.
RCM_MAX_UPLOAD_MB = envint("RCM_MAX_UPLOAD_MB", 20)
# Publishing a task waits at most this many seconds for the broker; the work is recorded in the outbox
# first (rcm.outbox), so a broker that does not answer delays it, and the request still answers at once.
RCM_TASK_PUBLISH_TIMEOUT = envint("RCM_TASK_PUBLISH_TIMEOUT", 2)
# The sweep re-publishes outbox rows still waiting after this many seconds (the commit hook had its chance).
RCM_OUTBOX_SWEEP_AFTER = envint("RCM_OUTBOX_SWEEP_AFTER", 30)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: none, the client's address is
# the socket's). The audit log and the sign-in lockout take the client's address from this.
RCM_TRUSTED_PROXIES = envint("RCM_TRUSTED_PROXIES", 0)
# Usernames of the platform operators: active superusers with these names see every practice in the Django
# admin; every other staff user sees only the practices they administer (rcm/admin_site.py).
RCM_PLATFORM_OPERATORS = envlist("RCM_PLATFORM_OPERATORS", [])

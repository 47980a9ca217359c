"""Shouhu settings: one module, every value from the environment with a safe default for the demo.

Production sets at least SHOUHU_SECRET_KEY, SHOUHU_FIELD_KEY, SHOUHU_INDEX_KEY, DATABASE_URL,
SHOUHU_ALLOWED_HOSTS and SHOUHU_DEBUG=0 (docs/operations.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("SHOUHU_DEBUG", True)
# The demo key is public on purpose: a deployment must set its own (checked by `manage.py check --deploy`).
SECRET_KEY = os.environ.get(
    "SHOUHU_SECRET_KEY", "shouhu-demo-insecure-key-change-me-in-production-0123456789"
)
# R11.3: ID numbers and phones are encrypted at rest (Fernet) with a keyed blind index for exact lookup.
# Separate keys so that rotating one does not touch the other; demo defaults derive from SECRET_KEY.
FIELD_ENCRYPTION_KEY = os.environ.get("SHOUHU_FIELD_KEY", "")
BLIND_INDEX_KEY = os.environ.get("SHOUHU_INDEX_KEY", "")
AUDIT_SEAL_KEY = os.environ.get("SHOUHU_AUDIT_KEY", "")
# Generated documents and attachments are encrypted at rest with their own key (core/documents/storage.py).
FILE_ENCRYPTION_KEY = os.environ.get("SHOUHU_FILE_KEY", "")

ALLOWED_HOSTS = [
    h for h in os.environ.get("SHOUHU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SHOUHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "shouhu.core.admin_apps.ShouhuAdminConfig",  # django.contrib.admin, asking the capability table
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "huey.contrib.djhuey",
    "shouhu.core",
    "shouhu.registry",
    "shouhu.care",
    "shouhu.protection",
    "shouhu.ledger",
    "shouhu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "core.User"
# Model permissions (the configuration site) come from the capability table, never from permission rows.
AUTHENTICATION_BACKENDS = ["shouhu.core.backends.CapabilityBackend"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shouhu.web.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("SHOUHU_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock up front so two
    # writers wait for each other instead of failing with "database is locked" half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# R11.5: Chinese first, English beside it.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Translations live in each app (shouhu/<app>/locale): `make messages` updates and compiles them.
TIME_ZONE = os.environ.get("SHOUHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (package-lock.json) at install time; only their dist folders are served.
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("SHOUHU_MEDIA_ROOT", BASE_DIR / "media"))

# Sessions: a shared village phone must not stay logged in for days (R11.4 session time-out).
SESSION_COOKIE_AGE = int(os.environ.get("SHOUHU_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "shouhu.core.api_permissions.CapabilityPermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "shouhu.core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shouhu.core.api.exception_handler",
    "DATE_FORMAT": "%Y-%m-%d",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shouhu 守护 API",
    "DESCRIPTION": "农村留守儿童关爱保护信息平台 REST API v1 (see API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Background work (huey): SQLite storage for a pilot, Redis for a province (SHOUHU_HUEY_REDIS_URL).
_huey_redis = os.environ.get("SHOUHU_HUEY_REDIS_URL")
HUEY = {
    "huey_class": "huey.RedisHuey" if _huey_redis else "huey.SqliteHuey",
    "name": "shouhu",
    "immediate": env_bool("SHOUHU_HUEY_IMMEDIATE", False),
    "utc": False,  # crontabs in county time (Django sets TZ to TIME_ZONE)
    **({"url": _huey_redis} if _huey_redis else {"filename": str(BASE_DIR / "huey.sqlite3")}),
}

# Outbound webhook for SMS / WeChat gateways (care.notify): body signed with HMAC-SHA256.
SHOUHU_WEBHOOK_URL = os.environ.get("SHOUHU_WEBHOOK_URL", "")
SHOUHU_WEBHOOK_SECRET = os.environ.get("SHOUHU_WEBHOOK_SECRET", "")

EMAIL_BACKEND = os.environ.get("SHOUHU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("SHOUHU_FROM_EMAIL", "shouhu@localhost")

# Shouhu-specific knobs that are deployment settings rather than county policy (policy lives in the
# PolicyParameter table that an administrator edits).
SHOUHU_PAGE_SIZE = 25
SHOUHU_MAX_PAGE_SIZE = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHOUHU_LOG_LEVEL", "WARNING")},
}

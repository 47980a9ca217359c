"""Shouhu settings: one module, every value from the environment with a safe default for the demo.

Production sets at least the five keys (SHOUHU_SECRET_KEY, SHOUHU_FIELD_KEY, SHOUHU_INDEX_KEY,
SHOUHU_AUDIT_KEY, SHOUHU_FILE_KEY), DATABASE_URL and SHOUHU_ALLOWED_HOSTS (docs/operations.md).
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import dj_database_url

from config.keys import load_keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# --- Keys and DEBUG (issue 10 part 4, R11.3) -------------------------------------------------------
# DEBUG is off unless asked for (`make run` sets SHOUHU_DEBUG=1): its error pages show a user's data.
DEBUG = env_bool("SHOUHU_DEBUG", False)
# Five separate keys (config/keys.py): SHOUHU_SECRET_KEY, SHOUHU_FIELD_KEY, SHOUHU_INDEX_KEY,
# SHOUHU_AUDIT_KEY, SHOUHU_FILE_KEY from the environment; any not set comes from SHOUHU_KEYS_FILE,
# generated once with random keys (the demo's .shouhu-keys.json, git-ignored). With DEBUG off the system
# check refuses the old public demo key and every key derived from it (shouhu.E001, shouhu/core/checks.py).
SHOUHU_KEYS_FILE = Path(os.environ.get("SHOUHU_KEYS_FILE", BASE_DIR / ".shouhu-keys.json"))
_keys, SHOUHU_KEY_SOURCES = load_keys(SHOUHU_KEYS_FILE, os.environ)
SECRET_KEY = _keys["SECRET_KEY"]
FIELD_ENCRYPTION_KEY = _keys[
    "FIELD_ENCRYPTION_KEY"
]  # Fernet: ID numbers, phones (comma list: first encrypts)
BLIND_INDEX_KEY = _keys["BLIND_INDEX_KEY"]  # HMAC: exact look-up of identifiers
AUDIT_SEAL_KEY = _keys["AUDIT_SEAL_KEY"]  # HMAC: event chain, access log, audit checkpoints
FILE_ENCRYPTION_KEY = _keys["FILE_ENCRYPTION_KEY"]  # Fernet: documents, attachments, uploaded ledgers
# The chain head signed outside the database (issue 10 part 6): appended JSON lines the operator ships away.
SHOUHU_AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("SHOUHU_AUDIT_CHECKPOINT_FILE", BASE_DIR / "audit-checkpoints.jsonl")
)
# --- end of keys and DEBUG ----------------------------------------------------------------------------

ALLOWED_HOSTS = [
    h for h in os.environ.get("SHOUHU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("SHOUHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# Issue 10 part 8: X-Forwarded-For is believed only from these proxies (addresses or networks, comma-
# separated, e.g. "127.0.0.1,10.0.0.0/8"); empty: the direct peer is the client (core/clientip.py).
SHOUHU_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("SHOUHU_TRUSTED_PROXIES", "").split(",") if p.strip()
]
for _proxy in SHOUHU_TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo stops start-up (ValueError names it), never a request

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
    "shouhu.schooling",
    "shouhu.services",
    "shouhu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shouhu.core.hostile.RejectNulMiddleware",  # issue 10 part 9: a NUL byte is a 400, never a 500
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "shouhu.core.security.SecurityHeadersMiddleware",  # CSP, no-store (issue 10 part 4)
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
                "shouhu.core.security.context",  # {{ csp_nonce }} (issue 10 part 4)
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

# Issue 10 part 3: at least 10 characters, not common, not like the username.
AUTH_PASSWORD_VALIDATORS: list[dict[str, Any]] = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
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
STATIC_ROOT = Path(os.environ.get("SHOUHU_STATIC_ROOT", BASE_DIR / "staticfiles"))
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
# --- Security headers (issue 10 part 4) ---------------------------------------------------------------
# HSTS on HTTPS responses (SecurityMiddleware); 0 turns it off (a first deployment may start small).
SECURE_HSTS_SECONDS = int(os.environ.get("SHOUHU_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SHOUHU_HSTS_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SHOUHU_SSL_REDIRECT", False)  # usually the reverse proxy redirects
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (shouhu/core/security.py): scripts and styles from this site only; the one
# inline script (the API page) carries the request's nonce; no frames, no plugins, forms post here.
SHOUHU_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# --- end of security headers --------------------------------------------------------------------------

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
    # Issue 10 part 9: hostile input is a 400, never a 500 (deep or NUL-holding JSON; "%" in a filter).
    "DEFAULT_FILTER_BACKENDS": ["shouhu.core.api_input.FilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "shouhu.core.api_input.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SHOUHU_LOG_LEVEL", "WARNING")},
}

# --- Logins (issue 10 parts 1-3, R11.4) — one block, so that parallel edits above merge cleanly -------
# Lockout before any hashing (LockoutBackend first), TOTP second factor (django-otp), session idle and
# absolute limits (AccountGuardMiddleware), API tokens stored hashed with an expiry (shouhu.accounts).
INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "rest_framework.authtoken"] + [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "shouhu.accounts",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "shouhu.accounts.middleware.AccountGuardMiddleware",
)
AUTHENTICATION_BACKENDS = ["shouhu.accounts.backends.LockoutBackend", *AUTHENTICATION_BACKENDS]
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "shouhu.accounts.tokens.HashedTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
# Passwords: Django's validators, at least 10 characters (AUTH_PASSWORD_VALIDATORS above).
OTP_TOTP_ISSUER = "守护 Shouhu"
# Wrong codes count towards the login lockout (5 in 15 minutes); django-otp's own growing delay would
# also refuse the right code for seconds after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

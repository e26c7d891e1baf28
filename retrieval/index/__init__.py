"""Vector index stores: ids are chunk primary keys; one back end is chosen in settings."""

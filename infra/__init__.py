"""Plumbing every app shares: loading the back ends named in settings, locating the models that
ship inside pip packages, audit records, file locks and atomic publishing of files and index
versions.

It sits below the apps (`ingestion`, `retrieval`, `llm`, `kbqa`) and imports none of them, so any
of them may use it without creating a cycle or reaching up into the project layer.
"""

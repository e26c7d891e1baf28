"""Ingestion's services: every change to documents and collections, whatever surface asks for it.

- `uploads`: validate, deduplicate and store uploaded files and ZIP archives, queue them;
- `documents`: queue, rename or move, re-index or retry, delete a document;
- `collections`: create, change and delete collections (who may read what);
- `ingest`: the worker's side: parse, chunk, embed and index one document, or fail it.

Each public service takes the acting user as `by`, checks their permission and writes the audit
record, so the API, the console, the Django admin and the command line obey the same rules and
leave the same trail. `by=None` is a trusted in-process caller (management commands, tests of the
machinery itself).
"""

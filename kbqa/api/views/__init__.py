"""REST API v1: thin views that validate input, check access and call one service.

Every read goes through `ingestion.access` (documents, collections, search, answers) or the chat
selectors (conversations, filtered by what the user may read now): a document the user may not
read is a 404, exactly like one that does not exist. Every change goes through a service, which
checks the caller's permission and writes the audit record.
"""

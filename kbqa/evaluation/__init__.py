"""Evaluation on question sets in the shared format (`../shared/eval/README.md`): retrieval
metrics, answer metrics, the runner that builds a throw-away index of a set and asks its
questions through the real retrieval and answering code, and `manage.py evaluate`.

It lives in the project layer because it composes the apps: ingestion's parser and chunker for
file sets, retrieval's index, llm's answering.
"""

"""The applications over the store: analysis queries, export, archive and restore, the report.

They read the views through the store layer; ingest and the runner never import them.
"""

"""The store layer: connections, the published snapshot, migrations, and the DuckLake backend.

Imports only the core layer (and the SQL files of the `sql` package).
"""

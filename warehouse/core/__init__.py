"""The core layer: errors, configuration, fault points, atomic file writes and
the is-this-process-alive check.

Imports nothing else of this project; every other layer (runner, store, ingest, apps, cli) may
import it.
"""

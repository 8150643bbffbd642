"""The core layer: errors, configuration, fault points and atomic file writes.

Imports nothing else of this project; every other layer (runner, store, ingest, apps, cli) may
import it.
"""

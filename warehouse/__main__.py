from __future__ import annotations

from warehouse.cli import entry

entry()

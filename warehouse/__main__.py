from __future__ import annotations

from warehouse.cli import main

main()

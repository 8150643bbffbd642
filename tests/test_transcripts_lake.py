"""Transcripts on the DuckLake backend: a lake ingest fills `transcripts` exactly like the
embedded file (real PostgreSQL catalog and local data folder, tests/lake_support.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import view_support
from lake_support import Services, new_lake, require_services

pytestmark = pytest.mark.lake
SQL = (
    "SELECT f.path, t.* EXCLUDE (file_id, load_id) FROM transcripts t JOIN files f USING (file_id)"
    " ORDER BY ALL"
)


@pytest.fixture(scope="module")
def svc() -> Services:
    return require_services()


def _rows(con: Any) -> list[tuple[Any, ...]]:
    try:
        return [tuple(r) for r in con.execute(SQL).fetchall()]
    finally:
        con.close()


def test_lake_ingest_fills_transcripts_like_the_embedded_file(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse.core.config import load_config
    from warehouse.store.db import open_reader
    from warehouse.store.lake.connection import open_reader as open_lake

    monkeypatch.setenv(view_support.ENV, view_support.KEY)
    wh = view_support.build(tmp_path / "embedded")
    lake = new_lake(svc, tmp_path / "lake", s3=False)
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", "lake", "ingest", str(wh.runs), "--db", lake.url, "-q"],
        env=lake.env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    embedded = _rows(open_reader(wh.db))
    assert len(embedded) == 2 * view_support.STEPS * 2 * 3  # 2 runs x steps x 2 calls x 3 messages
    assert _rows(open_lake(lake.url, config=load_config(str(lake.config_path)))) == embedded

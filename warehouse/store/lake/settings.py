"""Where a lake is and how to reach it: a `ducklake:postgres:` URL completed from the `[lake]`
table of warehouse.toml (data_path, s3_endpoint, s3_region, s3_url_style, s3_use_ssl, s3_key_id,
s3_secret, claim_lease_seconds) and the environment ($WAREHOUSE_LAKE_DATA_PATH,
$WAREHOUSE_EXTENSION_DIR; S3 keys from $WAREHOUSE_S3_KEY_ID / $WAREHOUSE_S3_SECRET or the AWS
variables). Connections are warehouse/store/lake/connection.py's."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.core.errors import ConfigError, UsageError
from warehouse.store.backend import backend_for

if TYPE_CHECKING:
    from warehouse.core.config import Config

PREFIX = "ducklake:"
PG_PREFIX = "ducklake:postgres:"


def is_lake_url(db: str | os.PathLike[str]) -> bool:
    return backend_for(db).is_lake


@dataclass(frozen=True)
class S3Settings:
    endpoint: str | None = None
    region: str | None = None
    url_style: str | None = None
    use_ssl: bool | None = None
    key_id: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class LakeSettings:
    url: str
    data_path: str | None = None
    s3: S3Settings | None = None
    inlining_row_limit: int = 0  # see the module docstring: never inline
    claim_lease_seconds: float = 3600.0
    extension_dir: Path | None = None

    @property
    def conninfo(self) -> str:
        """The libpq connection string of the catalog database (for the claim table)."""
        return self.url[len(PG_PREFIX) :]

    def describe(self) -> str:
        """The URL without a password, for messages."""
        import re

        return re.sub(r"password=\S+", "password=***", self.url)


def settings_for(url: str, config: Config | None = None, *, data_path: str | None = None) -> LakeSettings:
    """Lake settings for a `ducklake:` URL, completed from warehouse.toml's [lake] table."""
    if not url.startswith(PG_PREFIX):
        raise UsageError(
            f"unsupported lake URL {url.split(' ')[0]!r}: use ducklake:postgres:dbname=... host=... "
            "(concurrent writers and file claims need a PostgreSQL catalog)"
        )
    if config is None:
        from warehouse.core.config import load_config

        config = load_config()
    raw = config.raw.get("lake", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{config.source}: [lake] must be a table")
    path = data_path or os.environ.get("WAREHOUSE_LAKE_DATA_PATH") or _opt_str(raw, "data_path", config)
    return LakeSettings(
        url=url,
        data_path=path,
        s3=_s3_settings(raw, config, path),
        claim_lease_seconds=float(_opt_int(raw, "claim_lease_seconds", config) or 3600),
        extension_dir=Path(os.environ["WAREHOUSE_EXTENSION_DIR"])
        if os.environ.get("WAREHOUSE_EXTENSION_DIR")
        else None,
    )


def _opt_str(raw: dict[str, Any], key: str, config: Config) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config.source}: [lake] {key} must be a string")
    return value


def _opt_int(raw: dict[str, Any], key: str, config: Config) -> int | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ConfigError(f"{config.source}: [lake] {key} must be a non-negative integer")
    return value


def _s3_settings(raw: dict[str, Any], config: Config, data_path: str | None) -> S3Settings | None:
    keys = ("s3_endpoint", "s3_region", "s3_url_style", "s3_key_id", "s3_secret")
    values = {k: _opt_str(raw, k, config) for k in keys}
    use_ssl = raw.get("s3_use_ssl")
    if use_ssl is not None and not isinstance(use_ssl, bool):
        raise ConfigError(f"{config.source}: [lake] s3_use_ssl must be true or false")
    key_id = (
        values["s3_key_id"] or os.environ.get("WAREHOUSE_S3_KEY_ID") or os.environ.get("AWS_ACCESS_KEY_ID")
    )
    secret = (
        values["s3_secret"]
        or os.environ.get("WAREHOUSE_S3_SECRET")
        or os.environ.get("AWS_SECRET_ACCESS_KEY")
    )
    wanted = any(v is not None for v in values.values()) or use_ssl is not None or bool(key_id)
    if not wanted and not (data_path or "").startswith("s3://"):
        return None
    return S3Settings(
        values["s3_endpoint"], values["s3_region"], values["s3_url_style"], use_ssl, key_id, secret
    )

"""The DuckLake backend: a PostgreSQL catalog plus Parquet files on shared storage."""

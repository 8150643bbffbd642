"""SQL shipped as package data: migrations (sql/migrations/NNNN_name.sql) and one file per view
(sql/views/<view>_v<N>.sql). Read with importlib.resources, never via __file__."""

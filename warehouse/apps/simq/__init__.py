"""The simulator's own questions beyond the SQL views: the token curve fit and model profiles."""

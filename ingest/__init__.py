"""Turn run-log files into rows: discovery, manifest, line validation, records, path rules."""

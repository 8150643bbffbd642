"""The local read-only web view (`warehouse view`): Flask + Jinja2, server-rendered, 127.0.0.1 only."""

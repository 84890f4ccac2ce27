"""The brand managers' panel, mounted at /admin (see admin/app.py)."""

"""The JSON API (FastAPI), mounted under /api/v1."""

"""The baseline of ``bench/api_load.py`` and ``bench/client_overhead.py``: a bare FastAPI app with no database,
no auth and no middleware.

Served by the same uvicorn (same options, same worker count) as the real app, so that the ratio of the two
throughputs measures what the application itself costs per request (auth, SQL, domain logic, serialization)
on top of the HTTP server and the framework.

``GET /bare`` is a plain ``def`` endpoint, as the application's handlers are: FastAPI runs it in the
threadpool just like them, so the baseline includes that dispatch. ``GET /bare-async`` skips the
threadpool (``api_load.py --bare-endpoint async``) and shows the framework's ceiling.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

PAYLOAD = {"status": "ok", "service": "bare", "items": [1, 2, 3]}


@app.get("/bare")
def bare() -> dict:
    return PAYLOAD


@app.get("/bare-async")
async def bare_async() -> dict:
    return PAYLOAD

"""What every bench needs (``bench/*.py`` import it as ``_harness``: the scripts' folder is on sys.path).

report     the consoles, a timestamped log, "met"/"NOT met", a progress bar, the SIGTERM/Ctrl-C wrapper
servers    uvicorn subprocesses (the app, the bare FastAPI baseline ``bare_app``), their environment and CPU
cpu        CPU seconds of processes, of the PostgreSQL backends of a database, of the whole machine
http_load  the raw asyncio HTTP/1.1 load generator (keep-alive clients: closed loop, paced, or think time)
stats      percentiles, latency summaries, ratios
pg         a throwaway PostgreSQL database
seeding    a database migrated and seeded with the demo factory; bulk inserts with explicit ids
proposals  the proposal generator (realistic rows over the calls, organizations and states)
volume     the portal's 18 months of volume (organizations, calls, proposals, projects), jobs in ``jobs``
"""

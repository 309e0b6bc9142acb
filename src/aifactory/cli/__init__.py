"""The ``aifactory`` command line (Typer + Rich): ``aifactory.cli.main:app``.

One module per noun; commands call :mod:`aifactory.client` over HTTP (``serve``, ``demo`` and
``admin`` act on the local database) and print through :mod:`aifactory.cli.output`.
"""

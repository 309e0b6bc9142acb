"""The parts of ``bench/api_load.py``: its database (``seed``), its request mix (``mix``), its phases and
figures (``figures``)."""

"""The parts of ``bench/portal_load.py``: the pages and the sign-in (``pages``), one page under load
(``measure``), the in-process profile (``profile``) and the report (``report``)."""

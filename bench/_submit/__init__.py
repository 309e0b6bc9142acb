"""The parts of ``bench/submit_throughput.py``: the database, the job and the gateway (``common``), the HTTP
submit client (``http``), the cluster's bookkeeping (``cluster``), the Slurm and local parts, the profile and
the report."""

"""The Slurm backend: batch script (script.py), state table (states.py), CLI client (client.py), backend."""

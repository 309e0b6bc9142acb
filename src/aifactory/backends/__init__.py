"""Backends run jobs: one small class each (local, slurm) behind one protocol."""

"""Showcase jobs: small, honest, self-contained demonstrations runnable on the factory."""

"""aifactory: the open platform that runs an AI Factory."""

__version__ = "0.1.0"

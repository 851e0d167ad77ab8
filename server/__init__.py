"""The gateway process: the one place where channels, hand-off, console, broadcasts and
welfare jobs are wired into one FastAPI application (``python -m server``)."""

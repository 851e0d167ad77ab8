"""Custom Rasa 3.6 components for Italian (run in .venv-rasa: may import rasa, spaCy, stdlib)."""

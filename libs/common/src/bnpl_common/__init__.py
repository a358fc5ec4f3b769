"""Shared library of the BNPL services. Imported, never run."""

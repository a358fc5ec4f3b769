"""Customer profiles: ``/v1/profile``."""

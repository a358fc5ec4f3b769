"""Phone verification by a one-time SMS code: ``/v1/profile/phone-verification``."""

"""BNPL user service: customer profiles and phone verification."""

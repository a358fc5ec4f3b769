"""A demo merchant: a small shop that integrates the pay-later merchant API as a real one would."""

"""Human review of referred and contested decisions (issue 13)."""

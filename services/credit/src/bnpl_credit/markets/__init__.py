"""Markets (EU, UK, US): what each one requires a lender to compute and disclose."""

"""The append-only audit log of staff actions and staff views of personal data."""

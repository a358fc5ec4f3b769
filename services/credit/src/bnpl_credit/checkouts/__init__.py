"""Checkout sessions: created by the merchant's server, completed by the shopper, then captured,
voided and refunded by the merchant."""

"""Webhooks to merchants: deliveries fanned out from the outbox, signed (Standard Webhooks) and retried."""

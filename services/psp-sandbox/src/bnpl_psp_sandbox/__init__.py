"""A local sandbox payment-service provider that behaves like the subset of Stripe the platform uses."""

"""BNPL credit service: quotes, decisions, plans, repayments, credit lines."""

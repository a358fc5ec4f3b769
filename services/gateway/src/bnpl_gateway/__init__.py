"""BNPL GraphQL gateway: an AWS AppSync mirror in front of the user and credit services."""

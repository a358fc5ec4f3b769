"""The merchant registry: merchants, their API keys, webhook secrets, origins and market."""

"""Reaching an API within the time given: the bounded HTTP transport, deadlines carried to
each request, the shared request budget, retries and Retry-After. Imports only the core."""

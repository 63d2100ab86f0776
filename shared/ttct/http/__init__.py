"""The HTTP conventions of every service's API: the app factory, problems, authentication, body and rate limits, Idempotency-Key, If-Match, pagination."""

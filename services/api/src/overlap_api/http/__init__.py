"""Cross-cutting HTTP layer: errors as problem+json, middleware (deadline, admission, body
limit, metrics, hot reads), OpenAPI, auth, rate limits and the typed dependencies."""

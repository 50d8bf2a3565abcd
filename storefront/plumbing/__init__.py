"""The site's plumbing, under every page and endpoint: middleware (the client's address, request
ids and log lines, NUL refusal, /healthz, Server-Timing), the throttles and their DRF forms,
the deploy checks, error reporting, the console mail backend, portable row locks, the API's
schema pages. It knows nothing of the shop: it imports no other storefront package.
"""

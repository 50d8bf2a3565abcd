"""An offline stand-in for the slice of Stripe the shop uses.

It plugs in under the official `stripe` library as its HTTP client (`client.SandboxHTTPClient`),
so the shop's gateway code runs unchanged against it; `api` answers the requests like Stripe's
API would; `views` serve the hosted checkout page and a stub Stripe.js. State lives in the
database (`models`), so it works across processes and restarts.
"""

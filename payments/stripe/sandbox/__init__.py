"""An offline stand-in for the slice of Stripe the shop uses.

It plugs in under the official `stripe` library as its HTTP client (`client.SandboxHTTPClient`),
so the shop's gateway code runs unchanged against it; `server` answers the requests like
Stripe's API would, from one module per resource (`checkout_sessions` with `line_items` and
`pricing`, `coupons`, `tax_rates`, `payment_intents`, `events`), on the shared pieces of
`objects` and `params`; `hosted_checkout` and `payment_confirmation` do what the buyer's browser
does on Stripe's page and with Stripe.js (with the test `cards`); `views` serve those pages and a
stub Stripe.js. State lives in the database (`models`), so it works across processes and
restarts.
"""

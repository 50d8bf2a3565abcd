"""The Stripe rail: one Stripe account per currency, Checkout and the Payment Element.

`rail.StripeRail` is what the core sees; `client` is the only module that talks to the
`stripe` library (the sandbox, under `sandbox/`, plugs in beneath it).
"""

NAME = "stripe"

"""Money rules: which currencies the shop offers, Stripe's minor units, formatting."""

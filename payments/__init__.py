"""Everything that moves money: Stripe accounts per currency, checkout, the sandbox."""

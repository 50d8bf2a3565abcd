"""PrivatBank "Pay in parts" (Оплата частями, API v2): the third rail.

The buyer pays a UAH order in instalments: we create the payment at the bank (signed), send the
buyer to the bank's page with the token it returned, and learn the outcome from the bank's
signed callback and by asking it (`payment/state`) when the buyer comes back.
"""

NAME = "payparts"

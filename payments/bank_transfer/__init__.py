"""The bank-transfer rail: organisations (by INN) pay into the merchant's bank account; their
bank posts a signed webhook per incoming transfer; we credit the organisation's balance, keep a
ledger, and settle an order from the balance when the transfer quotes its payment reference.

`rail.BankTransferRail` is what the core sees; `webhook` reads and validates a delivery;
`ledger` moves balances (the only code that writes `Organisation.balance`); `api` serves the
balance; `sandbox` signs and posts deliveries the way a bank does, for demos and tests.
"""

NAME = "bank_transfer"

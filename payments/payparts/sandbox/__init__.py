"""The offline PrivatBank: the slice of the "Pay in parts" API the rail uses.

`transport.SandboxTransport` answers the client's `payment/create` and `payment/state` in
process (`server.py`, real signature checks, the same rules as the bank); the buyer approves,
declines or cancels on a hosted page (`views.py`); the bank's signed callback is then delivered
to the shop's `responseUrl` after commit (`delivery.py`). State lives in the database
(`InstalmentPlan`), so it works across processes. Installed only where PAYPARTS_SANDBOX allows.
"""

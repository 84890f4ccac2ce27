"""Commissions (issue 18): rules, the append-only ledger, approval after the refund window,
clawbacks, statements and payouts. ``terms`` is the pure maths; ``ledger`` the services the
API, the CLI and the background approval job share; SQL in ``tracker/store/commissions.py``.
"""

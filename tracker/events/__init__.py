"""Events out: signed webhooks to the brand's own systems (issue 18).

``payloads`` builds the event bodies (pure), ``signing`` the Standard Webhooks headers,
``endpoints`` the rules for registering an endpoint, ``worker`` the background delivery
with back-off, leases, the delivery log and automatic disable. The outbox rows are written
by ``tracker/store/events.py`` in the same transaction as the change they describe.
"""

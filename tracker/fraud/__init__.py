"""Fraud flags (issue 18): self-referral, velocity, one customer credited to several
creators. ``rules`` holds the thresholds and the evidence texts (pure); detection runs in
the order ingest's transaction (``tracker/store/fraud.py``); a person clears or confirms.
"""

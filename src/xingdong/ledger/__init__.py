"""Double-entry ledger: accounts, transfers (single, linked, two-phase), invariants.

Depends on no other domain; everything that moves money calls :mod:`xingdong.ledger.service`.
"""

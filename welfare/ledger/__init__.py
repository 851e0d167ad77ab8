"""The welfare budget ledger: citizens' accounts per funding source, append-only entries,
payments by hold/capture, reimbursements, expiry, statements and chat linking.

Modules: ``models`` (tables and the sign convention), ``accounts`` (balances, statements,
citizens and accounts), ``plans`` (which source pays), ``payments`` (every write),
``export`` (CSV statement), ``linking`` (one-time codes), ``demo`` (demo citizens).
"""

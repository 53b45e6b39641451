"""Anti-cheat: real-time risk decisions, evidence forensics and batch group detection.

The engine is independent of the web layer and of the database: it reads and writes its
state through :class:`xingdong.risk.store.RiskStore`, so the server can back it with
PostgreSQL while ``xingdong risk replay`` and the benchmark run it in memory.
"""

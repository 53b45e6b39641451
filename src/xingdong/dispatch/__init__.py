"""Dispatch: which live tasks a person sees in their feed, in what order, and why.

The allocation code here is in memory and knows nothing of the database: the live feed
feeds it campaigns and outcomes, the benchmark feeds it simulated ones
(``xingdong.dispatch.offline.OfflineDispatcher``). Both run the same code.
"""

"""The sandbox short-video platform built into Xingdong: accounts, videos, live rooms and
people's actions on them, with its own pages and a connector that verifies actions.

It stands for an outside platform (Kuaishou …): the rest of Xingdong reaches it only
through :class:`~xingdong.platforms.sandbox.connector.SandboxConnector`.
"""

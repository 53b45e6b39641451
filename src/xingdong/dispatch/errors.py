"""Errors of the dispatch domain."""

from __future__ import annotations

from xingdong.core.errors import Conflict
from xingdong.core.i18n import N_


class SeedingWaiting(Conflict):
    code = "seeding_waiting"
    title = N_("A seeding of the pacing prices is already waiting to run")


class WeightsChangedMeanwhile(Conflict):
    code = "weights_changed_meanwhile"
    title = N_("Someone changed the weights since you looked")

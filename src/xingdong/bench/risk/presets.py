"""Sizes and evasion levels of the generated worlds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    days: int
    honest: int
    targets: int
    bot_farm: int
    proxy_registration: int
    screenshot_reuse: int
    click_farm: int
    bought_aged: int
    evasion: int
    """0: careless fraud; 1: the usual tricks; 2: fraud that works at hiding."""


PRESETS = {
    "easy": Preset("easy", 5, 1200, 200, 60, 60, 40, 50, 30, evasion=0),
    "standard": Preset("standard", 7, 2500, 300, 120, 150, 80, 100, 60, evasion=1),
    "hard": Preset("hard", 7, 2500, 300, 120, 150, 80, 100, 60, evasion=2),
    "tiny": Preset("tiny", 2, 150, 40, 12, 12, 8, 10, 6, evasion=1),
}

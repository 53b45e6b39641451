"""A quick run of ``xingdong bench dispatch`` produces every figure (no timing asserts)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from xingdong.bench import dispatch as bench
from xingdong.cli import app
from xingdong.core.settings import get_settings
from xingdong.dispatch.weights import weights_from

FIGURES = {
    "ratio",
    "ratio_low",
    "ratio_high",
    "value",
    "expected_value",
    "utilisation",
    "pacing_error",
    "early_share",
    "tier_parity",
    "exposure_gini",
    "overspend",
    "decision_p50_us",
    "decision_p99_us",
}


def test_quick_bench_has_every_figure() -> None:
    figures = bench.run([1], "quick", orders=("random", "adversarial"), tightnesses=("tight",))
    assert [(c.order, c.tightness) for c in figures.cases] == [
        ("random", "tight"),
        ("adversarial", "tight"),
    ]
    out = figures.as_dict()
    for case in out["cases"]:  # type: ignore[attr-defined]
        assert set(case["policies"]) == set(bench.POLICIES)
        for run in case["policies"].values():
            assert set(run) == FIGURES
            assert run["overspend"] == 0
            assert 0 < run["ratio"] <= 1.2
            assert 0 <= run["utilisation"] <= 1
    assert figures.latency is not None
    assert figures.latency.scoring_p50_us > 0
    assert set(figures.goals()) >= {"ratio_random", "ahead_of_every_baseline", "pacing_error"}
    # Each goal says what decided it; a ratio goal shows the oracle's worst case too.
    assert set(figures.goal_figures()) == set(figures.goals())
    assert out["goal_figures"] == figures.goal_figures()
    random_cases = [c for c in figures.cases if c.order == "random"]
    lowest = min(c.policies["xingdong"].ratio for c in random_cases)
    oracle = min(c.policies["oracle"].ratio for c in random_cases)
    assert figures.goal_figures()["ratio_random"] == f"lowest {lowest:.3f} (oracle {oracle:.3f})"
    assert figures.goal_figures()["ahead_of_every_baseline"].endswith("of 2 cases")
    rendered = bench.tables(figures)
    assert len(rendered) == len(figures.cases) + 2
    assert [c.header for c in rendered[0].columns][:2] == ["policy", "ratio"]
    assert [c.header for c in rendered[-1].columns] == ["goal", "met", "measured"]


def test_cli_refuses_bad_options() -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["bench", "dispatch", "--size", "huge"])
    assert bad.exit_code == 1
    assert "unknown size" in bad.output
    bad_seeds = runner.invoke(app, ["bench", "dispatch", "--seeds", "one"])
    assert bad_seeds.exit_code == 1
    assert "Traceback" not in bad_seeds.output
    no_plays = runner.invoke(app, ["bench", "dispatch", "--quick", "--replays", "0"])
    assert no_plays.exit_code == 1
    assert "--replays must be at least 1" in no_plays.output


def test_the_cli_prints_json_and_runs_the_feed_with_the_operators_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XINGDONG_DISPATCH_WEIGHTS", '{"explore": 0.3}')
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        tried = runner.invoke(
            app,
            ["bench", "dispatch", "--quick", "--seeds", "2", "--replays", "1", "--json",
             "--weights", '{"max_per_brand": 2}'],
        )  # fmt: skip
        assert tried.exit_code == 0, tried.output
        data = json.loads(tried.output)
        assert data["weights"] == {"explore": 0.3, "max_per_brand": 2}
        assert data["replays"] == 1
        assert {c["order"] for c in data["cases"]} == {"random", "shifted", "adversarial"}
        assert {c["tightness"] for c in data["cases"]} == {"tight", "loose"}
        unknown = runner.invoke(app, ["bench", "dispatch", "--quick", "--weights", '{"x": 1}'])
        assert unknown.exit_code == 1
        assert "dispatch weights not valid: x: There is no such weight." in unknown.output
        not_json = runner.invoke(app, ["bench", "dispatch", "--quick", "--weights", "explore"])
        assert not_json.exit_code == 1
        assert "JSON object" in not_json.output
    finally:
        get_settings.cache_clear()


def test_weights_change_what_the_feed_does() -> None:
    plain = bench.run([1], "quick", orders=("random",), tightnesses=("tight",), latency=False)
    greedy = bench.run(
        [1],
        "quick",
        orders=("random",),
        tightnesses=("tight",),
        latency=False,
        weights=weights_from({"pacing_step": 0.0, "pacing_slack": 1.0}),
    )
    ours = plain.cases[0].policies["xingdong"]
    unpaced = greedy.cases[0].policies["xingdong"]
    assert greedy.weights == {"pacing_slack": 1.0, "pacing_step": 0.0}
    # Without pacing the feed spends unevenly: its pacing error grows.
    assert unpaced.pacing_error > ours.pacing_error


def test_replays_average_days_of_other_choices() -> None:
    def one_case(replays: int) -> bench.DispatchFigures:
        return bench.run(
            [1],
            "quick",
            orders=("random",),
            tightnesses=("loose",),
            policies=("xingdong", "greedy"),
            latency=False,
            replays=replays,
        )

    once, thrice = one_case(1), one_case(3)
    assert thrice.replays == 3
    for name in ("xingdong", "greedy"):
        first = once.cases[0].policies[name]
        mean = thrice.cases[0].policies[name]
        # The first play is the single run's day; the others draw other choices.
        assert first.ratio_low == first.ratio == first.ratio_high
        assert mean.ratio_low <= mean.ratio <= mean.ratio_high
        assert mean.ratio_low < mean.ratio_high
        assert first.ratio_low >= mean.ratio_low and first.ratio <= mean.ratio_high
    assert "mean of 3 plays" in str(bench.tables(thrice)[0].title)
    with pytest.raises(ValueError, match="at least 1"):
        bench.run([1], "quick", replays=0)


def test_choices_by_taste_shocks_are_the_logits_and_shared_between_policies() -> None:
    from xingdong.bench.dispatch import choice

    weight = np.array([0.9, 0.3, 0.05])
    rng = np.random.default_rng(5)
    n = 200_000
    shocks = rng.gumbel(size=(n, 4))
    taken = np.bincount(
        [choice(weight, shocks[k, :3], float(shocks[k, 3])) for k in range(n)], minlength=4
    )
    expected = np.append(weight, 1.0) / (1.0 + weight.sum())
    assert np.allclose(taken / n, expected, atol=0.005)
    # The same visit shown the same task at another place, beside another task, takes
    # the same decision about it far more often than independent draws would (0.51).
    other = np.array([0.9 * 0.6, 0.2])
    fresh = rng.gumbel(size=(5_000, 4))

    def agree(second: np.ndarray) -> float:
        return (
            sum(
                (choice(weight[:1], shocks[k, :1], float(shocks[k, 3])) == 0)
                == (choice(other, second[k, [0, 2]], float(second[k, 3])) == 0)
                for k in range(5_000)
            )
            / 5_000
        )

    assert agree(shocks) > 0.78
    assert agree(fresh) < 0.56

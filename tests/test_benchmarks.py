"""The benchmarks still run against the engine's current interfaces (a refactor once broke one unseen).

Only smoke runs here: the measurements themselves live in benchmarks/ and docs/performance.md,
never in timed tests.
"""

from __future__ import annotations

from benchmarks.bench_engine import compare_with_per_agent


def test_the_per_agent_baseline_runs_the_same_rule_on_a_small_city():
    res = compare_with_per_agent(300, 0.25)
    assert res["citizens"] == 300
    assert res["sheltered_mesa"] > 0
    assert res["sheltered_ours"] > 0
    assert res["ours_s"] > 0
    assert res["mesa_s"] > 0


def test_the_million_benchmark_knows_its_scenario():
    from benchmarks import bench_million
    from sim.scenario import load_scenario

    scn = load_scenario("scenarios/synthetic_large_city.yaml", bench_million.OVERRIDES)
    assert scn.city.synthetic.population == 1_000_000
    assert scn.duration == 6 * 3600
    assert [h.type for h in scn.hazards] == ["flood"]
    assert [a.type for a in scn.cyber] == ["ddos"]

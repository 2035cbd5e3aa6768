"""A finished model is freed: nothing in the process keeps it (mesa#3179 kept every model alive)."""

from __future__ import annotations

import gc
import weakref

from sim.api import sample_scenarios
from sim.engine.model import EvacuationModel
from sim.experiments.runner import run_scenario
from sim.scenario import load_scenario


def test_a_finished_model_is_freed_and_its_shelters_keep_unique_ids():
    scn = load_scenario(sample_scenarios()["kotka_district_evacuation"], ["duration=10min"])
    model = EvacuationModel(scn)
    model.run()
    ids = [s.unique_id for s in model.shelters]
    assert len(set(ids)) == len(ids) > 1
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None  # a sweep's worker or the app would otherwise hold every run it made


def test_runs_one_after_another_do_not_pile_up():
    def models() -> int:
        gc.collect()
        return sum(isinstance(o, EvacuationModel) for o in gc.get_objects())

    scn = load_scenario(sample_scenarios()["kotka_district_evacuation"], ["duration=10min"])
    before = models()  # other tests' fixtures may hold theirs
    for _ in range(3):
        run_scenario(scn, figures_only=True)
    assert models() == before

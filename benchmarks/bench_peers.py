"""Issue 20's peers: SafeCity Twin against SUMO's mesoscopic mode and jupedsim-network.

One generated street grid (``--grid`` x ``--grid`` junctions, ``--block`` m apart, 16 shelters
spread over it) is written once for every model:

- SafeCity Twin reads it as GeoJSON layers and runs from the command line
  (``python -m sim run``), all by car (one person per car, to match SUMO's vehicles) and all on
  foot (to match jupedsim-network's walkers). Its run writes the whole run directory.
- SUMO 1.28 (the ``eclipse-sumo`` wheel): ``netconvert`` turns the same nodes and edges into a
  network, and ``sumo --mesosim`` routes and drives one trip per agent to the shelter nearest its
  origin.
- jupedsim-network: every street is a room of its length x width, joined at its ends to the
  streets it meets; the shelters are places of safety.

Every agent leaves at a uniform time in the first 30 minutes from a street drawn uniformly (the
same draw for every model). Each model runs in its own process; the figures are that process's
CPU seconds (user + system) and its peak resident memory, start-up included (``benchmarks.usage``).

``python -m benchmarks.bench_peers [--sizes 10000 100000 300000]`` prints a table; the optional
dependencies are in ``requirements-peers.txt`` (``pip install -r requirements-peers.txt``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from benchmarks import usage

ROOT = Path(__file__).resolve().parents[1]
SPREAD_S = 1800.0  # departures uniform over the first half hour
DURATION_S = 4 * 3600
WIDTH_M = 8.0
SPEED_KMH = 50.0


def grid(n: int, block: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Junction coordinates (m), streets as junction pairs, and the 16 shelter junctions."""
    ij = np.array([(i, j) for j in range(n) for i in range(n)])
    xy = ij * block
    idx = np.arange(n * n).reshape(n, n)  # [j, i]
    streets = [(idx[j, i], idx[j, i + 1]) for j in range(n) for i in range(n - 1)]
    streets += [(idx[j, i], idx[j + 1, i]) for j in range(n - 1) for i in range(n)]
    ticks = np.linspace(0, n - 1, 6)[1:-1].round().astype(int)  # 4 x 4 shelters, inside the grid
    shelters = np.array([idx[j, i] for j in ticks for i in ticks])
    return xy.astype(float), np.array(streets), shelters


def agents(n_agents: int, n_streets: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Each agent's street and departure time (s): the same draw for every model."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_streets, n_agents), np.sort(rng.uniform(0.0, SPREAD_S, n_agents))


# ---------------------------------------------------------------------------- SafeCity Twin


def write_ours(work: Path, xy, streets, shelters, street_of, mode: str) -> Path:
    """GeoJSON layers and a scenario for ``python -m sim run``."""
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:32635", "EPSG:4326", always_xy=True)
    ox, oy = 500_000.0, 6_700_000.0  # UTM 35N, near Kotka

    def ll(p):
        lon, lat = to_ll.transform(ox + p[0], oy + p[1])
        return [round(float(lon), 8), round(float(lat), 8)]

    def fc(feats):
        return {"type": "FeatureCollection", "features": feats}

    def feat(props, geom):
        return {"type": "Feature", "properties": props, "geometry": geom}

    roads = [
        feat({"id": f"s{k}", "width_m": WIDTH_M, "lanes": 1, "speed_kph": SPEED_KMH},
             {"type": "LineString", "coordinates": [ll(xy[a]), ll(xy[b])]})
        for k, (a, b) in enumerate(streets)
    ]  # fmt: skip
    total = len(street_of)
    cap = total  # every shelter could take everyone: no one is turned away
    sh = [
        feat({"id": f"S{k}", "capacity": cap}, {"type": "Point", "coordinates": ll(xy[v])})
        for k, v in enumerate(shelters)
    ]
    counts = np.bincount(street_of, minlength=len(streets))
    people = [
        feat({"count": int(c)}, {"type": "Point", "coordinates": ll(0.5 * (xy[streets[k][0]] + xy[streets[k][1]]))})
        for k, c in enumerate(counts) if c
    ]  # fmt: skip
    for name, feats in (("roads", roads), ("shelters", sh), ("population", people)):
        (work / f"{name}.geojson").write_text(json.dumps(fc(feats)))
    scenario = {
        "name": f"peers-{mode}",
        "seed": 1,
        "duration": DURATION_S,
        "city": {k: str(work / f"{k}.geojson") for k in ("roads", "shelters", "population")},
        "population": {"count": total, "mode_share": {"walk": 1.0 if mode == "walk" else 0.0,
                                                       "car": 1.0 if mode == "car" else 0.0},
                       "shadow_share": 0.0},
        "movement": {"car_occupancy": 1.0},
        "alerting": {
            "orders": [{"at": 0, "zone": "all"}],
            "channels": [{"type": "ideal", "coverage": 1.0}],
            "departure_delay": {"distribution": "uniform", "low": 0, "high": SPREAD_S},
        },
        "output": {"tracks": {"max_citizens": 2000}},
    }  # fmt: skip
    path = work / f"ours-{mode}.yaml"
    path.write_text(json.dumps(scenario))
    return path


def ours(work: Path, scenario: Path) -> list[str]:
    return [sys.executable, "-m", "sim", "run", str(scenario), "--out", str(work / f"run-{scenario.stem}"),
            "--force", "--quiet"]  # fmt: skip


# ---------------------------------------------------------------------------- SUMO


def _sumo_binary(name: str) -> str:
    """The wheel's own binary (not its Python launcher), else one on the PATH."""
    try:
        import sumo as wheel  # type: ignore[import-not-found]

        return str(Path(wheel.SUMO_HOME) / "bin" / name)
    except ImportError:
        return shutil.which(name) or name


def write_sumo(work: Path, xy, streets, shelters, street_of, depart) -> Path:
    """Nodes, edges (both ways), ``netconvert``, and one trip per agent to its nearest shelter."""
    nod = ["<nodes>"] + [f'  <node id="n{k}" x="{x:.1f}" y="{y:.1f}" type="priority"/>' for k, (x, y) in enumerate(xy)]
    edg = ["<edges>"]
    for k, (a, b) in enumerate(streets):
        for tag, u, v in (("f", a, b), ("r", b, a)):
            edg.append(f'  <edge id="{tag}{k}" from="n{u}" to="n{v}" numLanes="1" speed="{SPEED_KMH / 3.6:.3f}"/>')
    (work / "grid.nod.xml").write_text("\n".join([*nod, "</nodes>"]))
    (work / "grid.edg.xml").write_text("\n".join([*edg, "</edges>"]))
    netconvert = _sumo_binary("netconvert")
    files = ["-n", str(work / "grid.nod.xml"), "-e", str(work / "grid.edg.xml"), "-o", str(work / "grid.net.xml")]
    subprocess.run([netconvert, *files, "--no-warnings", "true"], check=True, capture_output=True)
    # The shelter nearest each origin street's start, and an edge into it.
    into = {}
    for k, (a, b) in enumerate(streets):
        into.setdefault(int(b), f"f{k}")
        into.setdefault(int(a), f"r{k}")
    mid = 0.5 * (xy[streets[:, 0]] + xy[streets[:, 1]])
    d = np.abs(mid[:, None, :] - xy[shelters][None, :, :]).sum(axis=2)
    goal = np.array([into[int(v)] for v in shelters])[d.argmin(axis=1)]
    lines = ["<routes>", '  <vType id="car" vClass="passenger"/>']
    for i, (s, t) in enumerate(zip(street_of, depart, strict=True)):
        lines.append(f'  <trip id="{i}" type="car" depart="{t:.1f}" from="f{s}" to="{goal[s]}"/>')
    (work / "trips.xml").write_text("\n".join([*lines, "</routes>"]))
    return work / "grid.net.xml"


def sumo(work: Path) -> list[str]:
    binary = _sumo_binary("sumo")
    return [binary, "--mesosim", "-n", str(work / "grid.net.xml"), "-r", str(work / "trips.xml"), "--end",
            str(DURATION_S), "--no-step-log", "--no-warnings", "--ignore-route-errors", "--duration-log.disable",
            "--statistic-output", str(work / "sumo-stats.xml")]  # fmt: skip


# ---------------------------------------------------------------------------- jupedsim-network


JUPEDSIM = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import jupedsim_network as jn
    from jupedsim_network.sampling import Uniform

    g = json.load(open(sys.argv[1]))
    streets, shelters, counts, block, width = g["streets"], g["shelters"], g["counts"], g["block"], g["width"]
    net = jn.Network()
    for k in range(len(streets)):
        net.add_room(f"s{k}", area=block * width)
    at = {}
    for k, (a, b) in enumerate(streets):
        at.setdefault(a, []).append(k)
        at.setdefault(b, []).append(k)
    for node, ks in at.items():  # streets meeting at a junction are joined through an opening
        for i, u in enumerate(ks):
            for v in ks[i + 1:]:
                net.connect(f"s{u}", f"s{v}", width=width, kind="opening", length=block / 2)
    for j, node in enumerate(shelters):
        net.add_safe(f"S{j}")
        for u in at[node]:
            net.connect(f"s{u}", f"S{j}", width=width, kind="opening", length=block / 2, bidirectional=False)
    pops = [jn.Population(node=f"s{k}", count=c, speed=1.2, pre_movement=Uniform(minimum=0.0, maximum=g["spread"]))
            for k, c in enumerate(counts) if c]
    result = jn.NetworkSimulation(net, pops, t_max=g["duration"]).run(seed=1, record=False)
    t = np.asarray(result.exit_times, dtype=float)
    print(json.dumps({"safe": int(np.isfinite(t).sum())}))
    """
)


def write_jupedsim(work: Path, streets, shelters, street_of, block: float) -> Path:
    spec = {
        "streets": streets.tolist(), "shelters": shelters.tolist(),
        "counts": np.bincount(street_of, minlength=len(streets)).tolist(),
        "block": block, "width": WIDTH_M, "spread": SPREAD_S, "duration": DURATION_S,
    }  # fmt: skip
    (work / "jupedsim.json").write_text(json.dumps(spec))
    (work / "jupedsim_run.py").write_text(JUPEDSIM)
    return work / "jupedsim.json"


def jupedsim(work: Path) -> list[str]:
    return [sys.executable, str(work / "jupedsim_run.py"), str(work / "jupedsim.json")]


# ---------------------------------------------------------------------------- measuring


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """CPU seconds (user + system), peak memory (GB) and standard output of one process."""
    out, err = cwd / "stdout.txt", cwd / "stderr.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = usage.start(
            cmd, cwd / "usage.json", cwd=cwd, stdout=o, stderr=e, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        status, cpu, peak = usage.finish(proc, cwd / "usage.json")
    if status != 0:
        raise SystemExit(f"{cmd[0]} failed ({status}): {err.read_text(errors='replace')[-2000:]}")
    return cpu, peak / 1e9, out.read_text()


def arrived(name: str, work: Path, stdout: str) -> int:
    """How many agents reached safety (a check that each model did the whole job)."""
    if name.startswith("ours"):
        summary = json.loads((work / f"run-{name}" / "summary.json").read_text())
        return int(summary["evacuation"]["sheltered"])
    if name == "sumo-meso":
        import xml.etree.ElementTree as ET

        v = ET.parse(work / "sumo-stats.xml").getroot().find("vehicles")
        assert v is not None
        return int(v.get("inserted", 0)) - int(v.get("running", 0))
    return int(json.loads(stdout)["safe"])


def main() -> None:
    """Print CPU seconds and peak memory of each model at each size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--grid", type=int, default=40, help="junctions per side")
    parser.add_argument("--block", type=float, default=100.0, help="metres between junctions")
    parser.add_argument("--models", nargs="+", default=["ours-car", "sumo-meso", "ours-walk", "jupedsim-network"])
    parser.add_argument("--work", help="keep the generated files and runs here (one folder per size)")
    args = parser.parse_args()
    xy, streets, shelters = grid(args.grid, args.block)
    print(f"grid {args.grid} x {args.grid} junctions, {len(streets)} streets ({2 * len(streets)} one-way arcs), "
          f"{len(shelters)} shelters")  # fmt: skip
    print(f"{'agents':>8} {'model':<17} {'CPU s':>8} {'peak GB':>8} {'arrived':>9}")
    for size in args.sizes:
        with contextlib.ExitStack() as stack:
            if args.work:
                work = Path(args.work) / f"agents-{size}"
                work.mkdir(parents=True, exist_ok=True)
            else:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            street_of, depart = agents(size, len(streets))
            cmds = {}
            if "ours-car" in args.models:
                cmds["ours-car"] = ours(work, write_ours(work, xy, streets, shelters, street_of, "car"))
            if "ours-walk" in args.models:
                cmds["ours-walk"] = ours(work, write_ours(work, xy, streets, shelters, street_of, "walk"))
            if "sumo-meso" in args.models:
                write_sumo(work, xy, streets, shelters, street_of, depart)
                cmds["sumo-meso"] = sumo(work)
            if "jupedsim-network" in args.models:
                write_jupedsim(work, streets, shelters, street_of, args.block)
                cmds["jupedsim-network"] = jupedsim(work)
            for name in args.models:
                cpu, peak, stdout = measure(cmds[name], work)
                done = arrived(name, work, stdout)
                print(f"{size:>8} {name:<17} {cpu:>8.2f} {peak:>8.2f} {done:>9}", flush=True)


if __name__ == "__main__":
    main()

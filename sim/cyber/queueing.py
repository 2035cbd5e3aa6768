"""Servers as queues: M/M/1/K formulas, and a per-request SimPy simulation that checks them.

A server serves ``mu`` requests per second one at a time and holds at most ``K`` requests (the
one in service included); requests beyond that are dropped (timeouts). With arrivals at
``lam`` per second (attack plus legitimate traffic) the stationary loss probability and the
mean response time of the requests it accepts are (Kleinrock, *Queueing Systems* vol. 1):

    rho = lam / mu
    P_K = (1 - rho) rho^K / (1 - rho^(K+1))          (P_K = 1 / (K + 1) when rho = 1)
    L   = rho / (1 - rho) - (K + 1) rho^(K+1) / (1 - rho^(K+1))
    W   = L / (lam (1 - P_K))                          (Little's law on accepted requests)

and for an unbounded queue (M/M/1, rho < 1) ``W = 1 / (mu - lam)``. The engine applies the
stationary state to legitimate requests passing an attacked server (an attack at thousands of
requests per second reaches it within ``K / mu`` seconds); ``simulate_queue`` runs the queue one
request at a time, and the tests check the formulas against it.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from sim.core import fpmath


def mm1k_loss(lam: float, mu: float, k: int) -> float:
    """Stationary probability that an arriving request finds the M/M/1/K queue full."""
    if lam <= 0:
        return 0.0
    rho = lam / mu
    if abs(rho - 1.0) < 1e-12:
        return 1.0 / (k + 1)
    if rho > 1.0:  # rewrite with 1/rho to avoid overflow
        r = 1.0 / rho
        return float((1.0 - r) / (1.0 - fpmath.ipow(r, k + 1)))
    return float((1.0 - rho) * fpmath.ipow(rho, k) / (1.0 - fpmath.ipow(rho, k + 1)))


def mm1k_response(lam: float, mu: float, k: int) -> float:
    """Mean time an accepted request spends in the M/M/1/K server (waiting plus service), s."""
    if lam <= 0:
        return 1.0 / mu
    rho = lam / mu
    if abs(rho - 1.0) < 1e-12:
        length = k / 2.0
    elif rho > 1.0:
        # L = K - (mean number of empty places) ; compute via probabilities to stay finite.
        r = 1.0 / rho
        n = np.arange(k + 1)
        p = fpmath.ipow(r, k - n)
        p /= p.sum()
        length = float((n * p).sum())
    else:
        top = fpmath.ipow(rho, k + 1)
        length = float(rho / (1 - rho) - (k + 1) * top / (1 - top))
    accepted = lam * (1.0 - mm1k_loss(lam, mu, k))
    return length / accepted


def mm1_response(lam: float, mu: float) -> float:
    """Mean response time of an M/M/1 queue, s (infinite when lam >= mu)."""
    return math.inf if lam >= mu else 1.0 / (mu - lam)


def simulate_queue(
    lam: float, mu: float, *, k: int | None, horizon_s: float, rng: np.random.Generator
) -> dict[str, float]:
    """One server, Poisson arrivals, exponential service, FIFO, at most ``k`` in the system.

    Returns the measured mean response time of accepted requests and the loss share.
    """
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    times: list[float] = []
    counts = {"arrived": 0, "lost": 0}

    def request():
        t0 = env.now
        with server.request() as req:
            yield req
            yield env.timeout(fpmath.exponential_scalar(rng, 1.0 / mu))
        times.append(env.now - t0)

    def source():
        while True:
            yield env.timeout(fpmath.exponential_scalar(rng, 1.0 / lam))
            counts["arrived"] += 1
            in_system = server.count + len(server.queue)
            if k is not None and in_system >= k:
                counts["lost"] += 1
                continue
            env.process(request())

    env.process(source())
    env.run(until=horizon_s)
    return {
        "mean_response_s": float(np.mean(times)) if times else math.nan,
        "loss": counts["lost"] / max(counts["arrived"], 1),
        "served": len(times),
    }


__all__ = ["mm1_response", "mm1k_loss", "mm1k_response", "simulate_queue"]

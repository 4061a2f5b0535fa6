"""Random and Gilbert-Elliott loss: rates, burst lengths, seeds and replay."""

from __future__ import annotations

import math
import random

from nodes.faults import IFACE_ANY, Direction, Effects, FaultEngine, FaultSpec, GilbertElliott

EG, IN = Direction.EGRESS, Direction.INGRESS
FRAME = bytes(range(14)) + bytes(86)


def drops(engine: FaultEngine, count: int, ifname: str = "eth0", d: Direction = EG) -> list[int]:
    return [i for i in range(count) if not engine.process(ifname, d, FRAME, now=i * 1e-3)]


def engine_with(spec: FaultSpec, seed: int = 0) -> FaultEngine:
    engine = FaultEngine(rng=random.Random(seed))
    engine.add(spec, now=0.0)
    return engine


def test_loss_rate_within_five_sigma() -> None:
    n, p = 100_000, 0.1
    engine = engine_with(FaultSpec("eth0", Effects(loss=p), EG, seed=11))
    lost = len(drops(engine, n))
    assert abs(lost - n * p) < 5 * math.sqrt(n * p * (1 - p))
    counters = engine.list()[0].counters
    assert (counters.seen, counters.matched) == (n, n)
    assert counters.dropped == counters.dropped_loss == lost


def test_loss_zero_and_one() -> None:
    assert drops(engine_with(FaultSpec("eth0", Effects(loss=0.0), EG, seed=1)), 1000) == []
    assert len(drops(engine_with(FaultSpec("eth0", Effects(loss=1.0), EG, seed=1)), 1000)) == 1000


def test_same_seed_same_drops_different_seed_different() -> None:
    first = drops(engine_with(FaultSpec("eth0", Effects(loss=0.2), EG, seed=5)), 2000)
    again = drops(engine_with(FaultSpec("eth0", Effects(loss=0.2), EG, seed=5), seed=99), 2000)
    other = drops(engine_with(FaultSpec("eth0", Effects(loss=0.2), EG, seed=6)), 2000)
    assert first == again
    assert first != other


def test_generated_seed_is_reported_and_replays() -> None:
    engine = FaultEngine(rng=random.Random(3))
    info = engine.add(FaultSpec("eth0", Effects(loss=0.3), EG), now=0.0)
    assert (
        FaultEngine(rng=random.Random(3)).add(FaultSpec("eth0", Effects(loss=0.3)), now=0).seed
        == info.seed
    )
    assert engine.list()[0].seed == info.seed
    first = drops(engine, 1000)
    assert first == drops(
        engine_with(FaultSpec("eth0", Effects(loss=0.3), EG, seed=info.seed)), 1000
    )


def test_replay_is_per_interface_and_direction_despite_interleaving() -> None:
    spec = FaultSpec(IFACE_ANY, Effects(loss=0.25), Direction.BOTH, seed=77)
    alone = drops(engine_with(spec), 3000)

    mixed = engine_with(spec)
    traffic = random.Random(8)
    got, i = [], 0
    while i < 3000:
        other = traffic.choice([("eth1", EG), ("eth0", IN), ("eth2", IN), None])
        if other is not None:
            mixed.process(other[0], other[1], FRAME, now=i * 1e-3)
            continue
        if not mixed.process("eth0", EG, FRAME, now=i * 1e-3):
            got.append(i)
        i += 1
    assert got == alone
    # ... and the other interfaces/directions are independent streams, not copies
    assert drops(engine_with(spec), 3000, "eth1") != alone
    assert drops(engine_with(spec), 3000, "eth0", IN) != alone


def bursts(lost: list[bool]) -> list[int]:
    runs, run = [], 0
    for flag in lost:
        if flag:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    return runs


def test_gilbert_elliott_burst_length_and_stationary_loss() -> None:
    n, p, r = 200_000, 0.01, 0.2
    engine = engine_with(
        FaultSpec("eth0", Effects(gilbert_elliott=GilbertElliott(p=p, r=r)), EG, seed=4)
    )
    lost = [not engine.process("eth0", EG, FRAME, now=0.0) for _ in range(n)]
    runs = bursts(lost)
    # with loss_bad = 1, loss_good = 0, a burst is one stay in the bad state: geometric(r)
    mean_sd = math.sqrt((1 - r) / r**2 / len(runs))
    assert abs(sum(runs) / len(runs) - 1 / r) < 5 * mean_sd
    pi = p / (p + r)
    lam = 1 - p - r  # the chain's second eigenvalue: losses are correlated
    sd = math.sqrt(n * pi * (1 - pi) * (1 + lam) / (1 - lam))
    assert abs(sum(lost) - n * pi) < 5 * sd
    assert max(runs) > 10  # real bursts, not independent drops


def test_gilbert_elliott_partial_losses_in_each_state() -> None:
    n = 200_000
    ge = GilbertElliott(p=0.05, r=0.3, loss_bad=0.6, loss_good=0.02)
    engine = engine_with(FaultSpec("eth0", Effects(gilbert_elliott=ge), EG, seed=21))
    lost = sum(not engine.process("eth0", EG, FRAME, now=0.0) for _ in range(n))
    assert abs(lost / n - ge.stationary_loss) < 0.1 * ge.stationary_loss


def test_gilbert_elliott_with_tc_defaults_is_bernoulli() -> None:
    # gemodel p alone: r = 1 - p, so the next state does not depend on the current one
    n, p = 100_000, 0.1
    engine = engine_with(
        FaultSpec("eth0", Effects(gilbert_elliott=GilbertElliott(p=p)), EG, seed=2)
    )
    lost = len(drops(engine, n))
    assert abs(lost - n * p) < 5 * math.sqrt(n * p * (1 - p))

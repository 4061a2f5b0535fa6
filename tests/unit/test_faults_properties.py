"""Properties over random specs and traffic: never early, at most two copies per fault,
counters consistent, and replays identical."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.faults import (
    Direction,
    Distribution,
    Effects,
    FaultEngine,
    FaultSpec,
    GilbertElliott,
    RateLimit,
)

probability = st.floats(0.0, 1.0)


@st.composite
def specs(draw: st.DrawFn) -> FaultSpec:
    delay = draw(st.sampled_from([0.0, 0.001, 0.05]))
    use_ge = draw(st.booleans())
    return FaultSpec(
        "eth0",
        Effects(
            loss=0.0 if use_ge else draw(probability),
            gilbert_elliott=GilbertElliott(draw(probability), draw(probability))
            if use_ge
            else None,
            corrupt=draw(probability),
            duplicate=draw(probability),
            rate=draw(
                st.none()
                | st.builds(
                    RateLimit,
                    st.sampled_from([1e4, 1e6, 1e9]),
                    st.integers(1, 3000),
                    st.none() | st.integers(0, 5000),
                    st.none() | st.integers(0, 20),
                )
            ),
            delay=delay,
            jitter=draw(st.sampled_from([0.0, 0.01])),
            distribution=draw(st.sampled_from(list(Distribution))),
            reorder=draw(probability) if delay > 0 else 0.0,
            blackhole_mtu=draw(st.none() | st.integers(68, 1500)),
        ),
        draw(st.sampled_from(list(Direction))),
        seed=draw(st.integers(0, 2**64 - 1)),
    )


traffic = st.lists(
    st.tuples(st.sampled_from(list(Direction)[:2]), st.integers(0, 1600), st.floats(0, 0.01)),
    max_size=60,
)


def run(
    spec: FaultSpec, frames: list[tuple[Direction, int, float]]
) -> list[list[tuple[float, bytes]]]:
    engine = FaultEngine(rng=random.Random(0))
    engine.add(spec, now=0.0)
    now, outs = 0.0, []
    for direction, size, gap in frames:
        now += gap
        frame = bytes(i & 0xFF for i in range(size))
        out = engine.process("eth0", direction, frame, now=now)
        assert len(out) <= 2
        assert all(at >= now and len(f) == size for at, f in out)
        outs.append(out)
    counters = engine.list()[0].counters
    covered = sum(d in spec.direction.concrete for d, _, _ in frames)
    assert counters.seen == covered
    assert counters.dropped == (
        counters.dropped_down + counters.dropped_blackhole + counters.dropped_loss + counters.shaped
    )
    released = sum(len(out) for out in outs)
    assert released == len(frames) - counters.dropped + counters.duplicated
    return outs


@settings(max_examples=60, deadline=None)
@given(specs(), traffic)
def test_any_spec_on_any_traffic(
    spec: FaultSpec, frames: list[tuple[Direction, int, float]]
) -> None:
    assert run(spec, frames) == run(spec, frames)

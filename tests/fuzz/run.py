"""Run the fuzz targets with atheris (libFuzzer for Python), each in its own process.

    python -m tests.fuzz.run                        # every target, 60 s each
    python -m tests.fuzz.run ipv4 host --time 600   # some targets, longer
    python -m tests.fuzz.run --runs 30000 --seed 1  # a fixed number of inputs (CI)
    python -m tests.fuzz.run --replay host crash-1234abcd   # one input, with its traceback

A run starts from the target's committed corpus (tests/fuzz/corpus/<target>/, read only)
and writes what it finds into a scratch directory (``--keep DIR`` keeps it). A crash is
saved as ``<artifacts>/<target>/crash-*`` (default tests/fuzz/artifacts/, not committed);
the summary names the file and the ``--replay`` command. The exit status is 1 when any
target failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = HERE / "artifacts"


@dataclass(frozen=True, slots=True)
class Result:
    target: str
    ok: bool
    seconds: float
    runs: int | None  # inputs executed, from libFuzzer's final stats
    artifact: Path | None  # the crashing input
    output: str  # libFuzzer's and the target's output (the tail of it on success)

    def report(self) -> str:
        if self.ok:
            return f"{self.target}: ok, {self.runs} inputs in {self.seconds:.1f} s"
        lines = [f"{self.target}: FAILED after {self.seconds:.1f} s"]
        if self.artifact is not None:
            lines.append(f"  input: {self.artifact}")
            lines.append(
                f"  replay: python -m tests.fuzz.run --replay {self.target} {self.artifact}"
            )
        lines.append(self.output[-6000:])
        return "\n".join(lines)


def run_target(
    name: str,
    *,
    runs: int | None = None,
    seconds: float | None = None,
    seed: int = 1,
    artifacts: Path = ARTIFACTS,
    keep: Path | None = None,
    extra: tuple[str, ...] = (),
) -> Result:
    """Fuzz ``name`` in a child process for ``runs`` inputs and/or ``seconds``."""
    out_dir = artifacts / name
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    args = [f"-seed={seed}", f"-artifact_prefix={out_dir}/", "-timeout=20",
            "-rss_limit_mb=2048", "-print_final_stats=1", *extra]  # fmt: skip
    if runs is not None:
        args.append(f"-runs={runs}")
    if seconds is not None:
        args.append(f"-max_total_time={max(1, round(seconds))}")
    corpus = HERE / "corpus" / name
    dirs = [str(scratch)] + ([str(corpus)] if corpus.is_dir() else [])
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "tests.fuzz.run", "--child", name, "--", *args, *dirs]
    before = set(out_dir.iterdir())
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, errors="replace",
            timeout=(seconds or 0) + 300,
        )  # fmt: skip
        output, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        output, code = f"the fuzzer did not stop: {e}", -1
    elapsed = time.monotonic() - start
    if keep is not None:
        shutil.copytree(scratch, keep / name, dirs_exist_ok=True)
    shutil.rmtree(scratch, ignore_errors=True)
    new = sorted(set(out_dir.iterdir()) - before)
    executed = None
    for line in output.splitlines():
        if line.startswith("stat::number_of_executed_units:"):
            executed = int(line.split(":")[-1])
    return Result(name, code == 0, elapsed, executed, new[0] if new else None, output)


def _child(name: str, libfuzzer_args: list[str]) -> None:
    """Inside the fuzzing process: instrument the code under test, then hand over."""
    import atheris  # the project's dev dependency; only the child needs it

    with atheris.instrument_imports(include=["nodes", "topology", "orchestrator"]):
        from tests.fuzz import registry

        targets = registry.load()
    atheris.Setup([sys.argv[0], *libfuzzer_args], targets[name].fn)
    atheris.Fuzz()


def _replay(name: str, paths: list[str]) -> int:
    from tests.fuzz import registry

    fn = registry.load()[name].fn
    for path in paths:
        print(f"{name} <- {path}")
        fn(Path(path).read_bytes())  # a failure raises here, with its traceback
    print("no failure")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    from tests.fuzz import registry

    names = list(registry.load())
    p = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("targets", nargs="*", help=f"targets (default: all): {', '.join(names)}")
    p.add_argument("--time", type=float, help="seconds per target (default 60 unless --runs)")
    p.add_argument("--runs", type=int, help="inputs per target")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--artifacts", type=Path, default=ARTIFACTS)
    p.add_argument("--keep", type=Path, help="keep the new corpus entries under DIR/<target>")
    p.add_argument("--replay", nargs="+", metavar=("TARGET", "FILE"),
                   help="run one target on these inputs, in this process")  # fmt: skip
    p.add_argument("--list", action="store_true", help="list the targets")
    opts = p.parse_args(argv)
    if opts.list:
        for t in registry.load().values():
            print(f"{t.name:10} {t.doc.splitlines()[0] if t.doc else ''}")
        return 0
    if opts.replay:
        return _replay(opts.replay[0], opts.replay[1:])
    unknown = sorted(set(opts.targets) - set(names))
    if unknown:
        p.error(f"unknown targets {unknown}: choose from {names}")
    seconds = opts.time if opts.time is not None or opts.runs else 60.0
    failed = 0
    for name in opts.targets or names:
        result = run_target(name, runs=opts.runs, seconds=seconds, seed=opts.seed,
                            artifacts=opts.artifacts, keep=opts.keep)  # fmt: skip
        print(result.report(), flush=True)
        failed += not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

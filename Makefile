# wirelab: the two README commands (demo, test) plus developer targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# command:debian-package pairs the tests drive on the host (netns tests, Linux peers;
# nft: the lab bridges' notrack rules, orchestrator/lab/hostnet.py)
SYSTEM_TOOLS := ip:iproute2 ping:iputils-ping ethtool:ethtool tcpdump:tcpdump nft:nftables

.PHONY: demo bench test lint venv unit sim fuzz system-deps image docker-test swarm-test proto clean \
	test-compiled compiled-venv

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## the compiled build (setup.py, mypyc; issue 15) in a venv of its own, for test-compiled:
## the wheel is built by $(VENV)'s pinned mypy (offline, as the node image's is) from a clean
## copy of the sources (no stale build/ output), and installed with the dev extra; a .pth
## hook (tests/installed_first.py) keeps the checkout from shadowing it on sys.path
VENV_COMPILED  ?= .venv-compiled
COMPILED_BUILD := build/compiled
COMPILED_STAMP := $(VENV_COMPILED)/.installed
COMPILED_SRC   := $(shell find nodes topology orchestrator proto -name '*.py' -o -name '*.c' \
	-o -name '*.yaml' 2>/dev/null)

$(COMPILED_STAMP): $(STAMP) pyproject.toml setup.py README.md $(COMPILED_SRC) tests/installed_first.py
	@test -x $(VENV_COMPILED)/bin/python || $(PYTHON) -m venv $(VENV_COMPILED)
	rm -rf $(COMPILED_BUILD) && mkdir -p $(COMPILED_BUILD)/src
	cp -r nodes topology orchestrator proto pyproject.toml setup.py README.md $(COMPILED_BUILD)/src/
	find $(COMPILED_BUILD)/src \( -name '*.so' -o -name __pycache__ -o -name '*.egg-info' \) \
	  -prune -exec rm -rf {} +
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
	  -w $(COMPILED_BUILD)/wheel $(COMPILED_BUILD)/src
	$(PY) -c 'import sys; from pathlib import Path; import orchestrator.image.build as b; \
	  b.check_compiled(Path(sys.argv[1]), b.mypyc_modules(Path(".")))' $(COMPILED_BUILD)/wheel
	$(VENV_COMPILED)/bin/python -m pip uninstall --quiet --disable-pip-version-check -y wirelab
	$(VENV_COMPILED)/bin/python -m pip install --quiet --disable-pip-version-check \
	  "$$(ls $(COMPILED_BUILD)/wheel/wirelab-*.whl)[dev]"
	site=$$($(VENV_COMPILED)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	  cp tests/installed_first.py $$site/wirelab_installed_first.py && \
	  echo 'import wirelab_installed_first; wirelab_installed_first.install()' \
	    > $$site/wirelab_installed_first.pth
	@touch $(COMPILED_STAMP)

compiled-venv: $(COMPILED_STAMP)

## the unit and sim tests against the compiled wheel (make test runs them too); a test
## checks that the compiled modules are the ones imported (WIRELAB_EXPECT_COMPILED), and the
## virtual determinism test runs its scenario in the pure build too (WIRELAB_OTHER_BUILD_PYTHON). `env`,
## not a VAR=value prefix: make then runs pytest without a sh in between (typer's shell
## completion test detects the shell it runs under)
test-compiled: $(COMPILED_STAMP)
	env WIRELAB_EXPECT_COMPILED=1 WIRELAB_OTHER_BUILD_PYTHON=$(abspath $(PY)) \
	  $(VENV_COMPILED)/bin/pytest -q -p no:cacheprovider tests/unit tests/sim

## host tools for the namespace tests; installed with apt when missing and root
system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing:$$missing"; export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q $$missing >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; }; \
	  else echo "missing:$$missing (tests that need them will be skipped)"; fi; fi

## the README's demo: Docker engine + node image when missing, quickstart, loss, MTU drop
demo: $(STAMP)
	$(PY) -m orchestrator.demo

## benchmarks side by side with the Linux kernel -> bench/results.json (several minutes; root)
bench: $(STAMP) image
	$(PY) -m bench $(BENCH_ARGS)

## every test: unit, sim, network namespaces and Docker (root) on the pure-Python sources
## (the editable install: nothing compiled shadows them, a test checks), the unit and sim
## tests again against the compiled wheel (test-compiled), then lint
test: $(STAMP) system-deps image
	env WIRELAB_EXPECT_COMPILED=0 $(PY) -m pytest -q -p no:cacheprovider tests
	$(MAKE) --no-print-directory test-compiled
	$(MAKE) --no-print-directory lint

## the node image, offline (installs docker.io/debootstrap and starts dockerd as root when needed)
image: $(STAMP)
	$(PY) -m orchestrator.image build

docker-test: $(STAMP) image
	$(PY) -m pytest -q -m docker tests/docker

## one lab across three Docker daemons in a swarm, on this machine (root; tests/swarm,
## orchestrator/lab/swarmlab.py); leaves nothing behind
swarm-test: $(STAMP) system-deps image
	WIRELAB_SWARM_TEST=1 $(PY) -m pytest -q -s -p no:cacheprovider -m swarm tests/swarm

## regenerate the committed gRPC code from proto/wirelab/v1/*.proto (a test fails when stale)
proto: $(STAMP)
	$(PY) proto/gen.py

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

sim: $(STAMP)
	$(PY) -m pytest -q tests/sim

## coverage-guided fuzzing (atheris), FUZZ_TIME seconds per target (make test runs a
## short fixed-seed pass); FUZZ_TARGETS="ipv4 host" picks targets; see tests/fuzz/README.md
FUZZ_TIME ?= 120
fuzz: $(STAMP)
	$(PY) -m tests.fuzz.run --time $(FUZZ_TIME) $(FUZZ_TARGETS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy nodes topology orchestrator tests bench

clean:
	rm -rf $(VENV) $(VENV_COMPILED) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

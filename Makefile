# wirelab: the two README commands (demo, test) plus developer targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# command:debian-package pairs the tests drive on the host (netns tests, Linux peers;
# nft: the lab bridges' notrack rules, orchestrator/lab/hostnet.py)
SYSTEM_TOOLS := ip:iproute2 ping:iputils-ping ethtool:ethtool tcpdump:tcpdump nft:nftables

.PHONY: demo bench test lint venv unit sim fuzz system-deps image docker-test swarm-test proto clean

$(STAMP): pyproject.toml setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

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

## every test: unit, sim, network namespaces and Docker (root), then lint
test: $(STAMP) system-deps image
	$(PY) -m pytest -q -p no:cacheprovider tests
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
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

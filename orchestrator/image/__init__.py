"""The node image, built offline and cached by a hash of its inputs (:mod:`.build`), and
the Docker engine it needs (:mod:`.engine`). ``python -m orchestrator.image build``."""

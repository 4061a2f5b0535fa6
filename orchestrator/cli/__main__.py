"""``python -m orchestrator.cli``: the same as the ``wirelab`` console script."""

import sys

from orchestrator.cli.app import main

sys.exit(main())

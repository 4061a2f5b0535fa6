import sys

from orchestrator.image.build import main

sys.exit(main())

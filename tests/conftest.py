"""Suite-wide settings: property tests are deterministic (DESIGN.md rule 5) and never fail
on timing when the machine is loaded."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("wirelab", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("wirelab")

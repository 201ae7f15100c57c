"""Ridecast's common layer: the domain, the HTTP API, the repositories and adapters (README "Code layout").

Powertools' packages that re-export every resolver and event are made lazy before any module here imports
from them, so a function loads only the modules whose names it uses (`ridecast.lazy_packages`).
"""

from ridecast.lazy_packages import POWERTOOLS_PACKAGES, import_lazily

for _package in POWERTOOLS_PACKAGES:
    import_lazily(_package)

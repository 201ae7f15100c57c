"""Moved to `ridecast.api.models`. Kept while domain modules still import request models from here (the
domain issue removes those imports); delete it then."""

from ridecast.api.models import *  # noqa: F403

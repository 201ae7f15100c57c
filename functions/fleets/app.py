"""POST /fleets, GET and PATCH /fleets/{fleet_id}, its API keys: ridecast/api/routes/fleets.py."""

from ridecast.api.routes import fleets
from ridecast.api.routing import http_handler, resolver

app = resolver(fleets.routes)
lambda_handler = http_handler(app)

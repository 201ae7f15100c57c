"""Rides of the caller's fleet: ridecast/api/routes/rides.py."""

from ridecast.api.routes import rides
from ridecast.api.routing import http_handler, resolver

app = resolver(rides.routes)
lambda_handler = http_handler(app)

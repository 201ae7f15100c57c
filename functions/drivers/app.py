"""Drivers of the caller's fleet: ridecast/api/routes/drivers.py."""

from ridecast.api.routes import drivers
from ridecast.api.routing import http_handler, resolver

app = resolver(drivers.routes)
lambda_handler = http_handler(app)

"""Dispatch control of the caller's fleet: ridecast/api/routes/dispatch.py."""

from ridecast.api.routes import dispatch
from ridecast.api.routing import http_handler, resolver

app = resolver(dispatch.routes)
lambda_handler = http_handler(app)

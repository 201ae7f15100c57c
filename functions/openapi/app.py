"""GET /openapi.json, the whole API described: ridecast/api/routes/openapi.py."""

from ridecast.api.routes import openapi
from ridecast.api.routing import http_handler, resolver

app = resolver(openapi.routes)
lambda_handler = http_handler(app, with_metrics=False)

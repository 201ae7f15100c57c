"""GET /health: ridecast/api/routes/health.py."""

from ridecast.api.routes import health
from ridecast.api.routing import http_handler, resolver

app = resolver(health.routes)
lambda_handler = http_handler(app, with_metrics=False)

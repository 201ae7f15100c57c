"""GET /stats: ridecast/api/routes/stats.py."""

from ridecast.api.routes import stats
from ridecast.api.routing import http_handler, resolver

app = resolver(stats.routes)
lambda_handler = http_handler(app)

"""The driver's offer link (page, accept, reject): ridecast/api/routes/offers.py."""

from ridecast.api.routes import offers
from ridecast.api.routing import http_handler, resolver

app = resolver(offers.routes)
lambda_handler = http_handler(app)

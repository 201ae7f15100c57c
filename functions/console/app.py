"""The live web console's page and files: ridecast/api/routes/console.py."""

from ridecast.api.routes import console
from ridecast.api.routing import http_handler, resolver

app = resolver(console.routes)
lambda_handler = http_handler(app)

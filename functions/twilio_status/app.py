"""POST /webhooks/twilio/status: delivery receipts of offer messages; ridecast/api/routes/webhooks.py."""

from ridecast.api.routes import webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(webhooks.twilio_receipts)
lambda_handler = http_handler(app)

"""POST /webhooks/twilio/status: delivery receipts of offer messages; ridecast/api/routes/twilio_webhooks.py."""

from ridecast.api.routes import twilio_webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(twilio_webhooks.twilio_receipts)
lambda_handler = http_handler(app)

"""POST /webhooks/twilio: a driver's SMS or WhatsApp reply; ridecast/api/routes/twilio_webhooks.py."""

from ridecast.api.routes import twilio_webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(twilio_webhooks.twilio_replies)
lambda_handler = http_handler(app)

"""POST /webhooks/twilio: a driver's SMS or WhatsApp reply; ridecast/api/routes/webhooks.py."""

from ridecast.api.routes import webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(webhooks.twilio_replies)
lambda_handler = http_handler(app)

"""POST /webhooks/telegram/{fleet_id}: the fleet's bot updates; ridecast/api/routes/webhooks.py."""

from ridecast.api.routes import webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(webhooks.telegram_updates)
lambda_handler = http_handler(app)

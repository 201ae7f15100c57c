"""POST /webhooks/telegram/{fleet_id}: the fleet's bot updates; ridecast/api/routes/telegram_webhooks.py."""

from ridecast.api.routes import telegram_webhooks
from ridecast.api.routing import http_handler, resolver

app = resolver(telegram_webhooks.telegram_updates)
lambda_handler = http_handler(app)

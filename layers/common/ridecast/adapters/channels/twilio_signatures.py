"""Twilio webhook signatures, checked by the SDK's RequestValidator: a module of its own, so the webhook
functions load neither the sending loop nor asyncio."""

from ridecast.domain.channels.ports import SignedRequest


class TwilioSignatures:
    """Checks X-Twilio-Signature with the SDK's RequestValidator (imported on the webhook paths only)."""

    def verify(self, auth_token: str, request: SignedRequest) -> bool:
        from twilio.request_validator import RequestValidator

        if not request.signature:
            return False
        return bool(RequestValidator(auth_token).validate(request.url, dict(request.params), request.signature))

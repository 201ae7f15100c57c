"""Wire formats of the providers and pages the functions speak (Telegram updates, Twilio forms and TwiML,
the offer page's HTML), translated to and from domain inputs here so the domain never sees them."""

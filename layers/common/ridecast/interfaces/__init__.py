"""Wire formats the functions speak with providers and people (Telegram updates, Twilio forms and TwiML, the
offer page's HTML, QR codes), translated to and from domain inputs here so the domain never sees them.

One package rather than files beside each function: the local stack and the tests import them from the
layer like any other module (a function directory is not on their path), and the Twilio forms serve two
functions (replies and delivery receipts)."""

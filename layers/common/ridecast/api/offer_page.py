"""The HTML a driver sees behind an offer link: readable on a phone, works with one tap."""

from html import escape

from ridecast.domain.matching.answers import OfferView, in_this_round

_PAGE = """<!doctype html>
<html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Ride {code}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:32rem;margin:1.5rem auto;padding:0 1rem;color:#111}}
dl{{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}}dt{{color:#555}}
button{{font-size:1.2rem;padding:.8rem 1.4rem;margin:.3rem;border:0;border-radius:.5rem;color:#fff}}
.accept{{background:#137333}}.reject{{background:#a50e0e}}#result{{font-size:1.2rem;margin-top:1rem}}
</style></head><body>
<h1>{fleet}: ride {code}</h1>
<dl><dt>Pickup</dt><dd>{pickup}</dd><dt>Dropoff</dt><dd>{dropoff}</dd><dt>When</dt><dd>{when}</dd>{extra}</dl>
<p>Status: <strong id="status">{status}</strong></p>
<div id="actions"{hidden}>
<button class="accept" onclick="answer('accept')">Accept</button>
<button class="reject" onclick="answer('reject')">Reject</button></div>
<div id="give-back"{give_back_hidden}><p>The ride is yours. Cannot make it?</p>
<button class="reject" onclick="answer('release', 'give-back')">Give back</button></div>
<p id="result" role="status"></p>
<script>
const messages = {{assigned: "The ride is yours. Head to the pickup.", rejected: "Rejected. Thank you.",
  already_taken: "Sorry, another driver took this ride.", cancelled: "This ride was cancelled.",
  expired: "This offer has expired.", released: "You gave the ride back. Thank you for telling us.",
  not_assigned_to_you: "This ride is not assigned to you."}};
async function answer(action, buttons = "actions") {{
  document.getElementById(buttons).hidden = true;
  const response = await fetch(location.pathname.replace(/\\/$/, "") + "/" + action, {{method: "POST"}});
  const body = await response.json().catch(() => ({{}}));
  document.getElementById("result").textContent = messages[body.result] || body.message || "Please try again.";
  if (body.result === "assigned") {{
    document.getElementById("status").textContent = "yours";
    document.getElementById("give-back").hidden = false;
  }}
}}
</script></body></html>"""


def render_offer(view: OfferView) -> str:
    ride = view.ride
    extra = ""
    if ride.price is not None:
        extra += f"<dt>Price</dt><dd>{ride.price:.2f}</dd>"
    if ride.notes:
        extra += f"<dt>Notes</dt><dd>{escape(ride.notes)}</dd>"
    open_for_answer = ride.status == "searching" and in_this_round(view.offer, ride)
    # SPEC §8: the driver who holds the ride can give it back from the same page.
    holds_it = ride.status == "assigned" and ride.driver_id == view.offer.driver_id
    return _PAGE.format(
        lang=view.fleet.language,
        direction="rtl" if view.fleet.language in ("he", "ar") else "ltr",
        fleet=escape(view.fleet.name),
        code=escape(ride.code),
        pickup=escape(ride.pickup.address),
        dropoff=escape(ride.dropoff.address),
        when=escape(ride.pickup_time.isoformat() if ride.pickup_time else "now"),
        extra=extra,
        status=escape(_status_for_this_driver(ride.status, holds_it)),
        hidden="" if open_for_answer else " hidden",
        give_back_hidden="" if holds_it else " hidden",
    )


def _status_for_this_driver(status: str, holds_it: bool) -> str:
    """The winner reads that the ride is theirs; every other driver that someone else took it."""
    if status == "assigned":
        return "yours" if holds_it else "taken"
    return status


def render_missing() -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Offer not found</title></head>'
        "<body><h1>Offer not found</h1><p>This link is not valid.</p></body></html>"
    )

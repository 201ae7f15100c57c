// Parts of a ride that the Now and Rides panels both show: its route and its offers, one line per driver.

import { badge, el } from "./dom.js";
import { formatTime, t } from "./i18n.js";

export function driverName(ctx, driverId) {
  return ctx.drivers.get(driverId)?.name ?? driverId ?? "—";
}

export function routeLine(ride) {
  return el("p", { class: "route" }, el("bdi", {}, ride.pickup.address), ` ${t("arrow")} `, el("bdi", {}, ride.dropoff.address));
}

/** The offers in the order they were sent: when, to whom, on which channel (a failover shows the new one),
 * their status, the wave, when answered, and a provider's error. */
export function offerList(ctx, tag, offers, className) {
  const sorted = [...offers].sort((a, b) => a.sent_at.localeCompare(b.sent_at));
  return el(
    tag,
    { class: className, "aria-label": t("offers") },
    sorted.map((offer) =>
      el(
        "li",
        { dataset: { driverId: offer.driver_id, status: offer.status } },
        el("time", { datetime: offer.sent_at, class: "hint" }, formatTime(offer.sent_at)),
        el("bdi", { class: "who" }, driverName(ctx, offer.driver_id)),
        badge("channel", offer.channel, offer.channel),
        badge("offer", offer.status, t(`offer.${offer.status}`)),
        el(
          "span",
          { class: "hint detail" },
          [`${t("wave")} ${offer.wave}`, offer.responded_at && `${t("responded_at")} ${formatTime(offer.responded_at)}`]
            .filter(Boolean)
            .join(" · "),
        ),
        offer.error && el("span", { class: "error-text" }, offer.error),
      ),
    ),
  );
}

// The Now panel: every ride matching now (and those that just ended) with a countdown to its deadline and
// each offer's status per driver as it changes; and the form that creates a ride.

import { get, post, ApiError } from "./api.js";
import { $, badge, el, render } from "./dom.js";
import { showFieldErrors } from "./forms.js";
import { t } from "./i18n.js";
import { driverName, offerList, routeLine } from "./ride_parts.js";

let matchings = [];
let clockSkewMs = 0; // the server's clock minus ours: deadlines count down on the server's time

export async function refreshNow(ctx) {
  const answer = await get("/matchings?ended_within_seconds=120");
  clockSkewMs = Date.parse(answer.as_of) - Date.now();
  matchings = answer.matchings;
  show(ctx);
}

export function rerenderNow(ctx) {
  show(ctx);
}

function show(ctx) {
  const names = matchings.flatMap((ride) => (ride.offers || []).map((offer) => driverName(ctx, offer.driver_id)));
  const changed = render($("#matchings"), [matchings, names], () =>
    matchings.length ? matchings.map((ride) => card(ctx, ride)) : el("p", { class: "empty" }, t("no_matchings")),
  );
  if (changed) tickCountdowns();
}

function card(ctx, ride) {
  const titleId = `matching-${ride.ride_id}`;
  const offers = ride.offers || [];
  // Held: accepted while dispatch is paused, not broadcast until it resumes (SPEC §5).
  const held = ride.status === "searching" && ride.held === true;
  return el(
    "article",
    {
      class: `matching card status-${ride.status}`,
      "aria-labelledby": titleId,
      dataset: { rideId: ride.ride_id, code: ride.code, status: ride.status, held: held ? "true" : "false" },
    },
    el(
      "header",
      {},
      el("h3", { id: titleId }, ride.code),
      badge("ride", ride.status, t(`status.${ride.status}`)),
      held && badge("ride", "held", t("held")),
      ride.status === "searching" && el("span", { class: "countdown", dataset: { deadline: ride.deadline_at } }),
      ride.status === "assigned" && ride.driver_id && el("span", { class: "winner" }, driverName(ctx, ride.driver_id)),
    ),
    routeLine(ride),
    el("p", { class: "hint" }, el("bdi", {}, ride.customer.name), " · ", t("offers_count", { count: offers.length })),
    offers.length > 0 && offerList(ctx, "ul", offers, "offers"),
    ride.status === "searching" &&
      el(
        "button",
        {
          type: "button",
          class: "danger",
          dataset: { action: "cancel", rideId: ride.ride_id, code: ride.code, focusKey: `cancel-${ride.ride_id}` },
        },
        t("cancel"),
      ),
  );
}

/** Once a second, with no request: each countdown from the deadline and the server's clock. */
export function tickCountdowns() {
  const now = Date.now() + clockSkewMs;
  for (const node of document.querySelectorAll("[data-deadline]")) {
    const left = Math.round((Date.parse(node.dataset.deadline) - now) / 1000);
    if (left <= 0) {
      node.textContent = t("deadline_passed");
      continue;
    }
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    node.textContent = t("deadline_in", { time: `${minutes}:${seconds}` });
  }
}

export function setUpRideForm(ctx) {
  const form = $("#ride-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const input of form.querySelectorAll("input[name]")) {
      const value = input.value.trim();
      if (!value) continue;
      const [outer, inner] = input.name.split(".");
      if (inner) body[outer] = { ...body[outer], [inner]: value };
      else body[outer] = value;
    }
    try {
      const ride = await post("/rides", body, { headers: { "Idempotency-Key": crypto.randomUUID() } });
      showFieldErrors(form, $("#ride-form-error"), null);
      form.reset();
      ctx.notice(t("created", { code: ride.code }));
      await refreshNow(ctx);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFieldErrors(form, $("#ride-form-error"), error);
    }
  });
}

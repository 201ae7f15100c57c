// The Rides panel: recent rides with status, driver and time to match, filtered by status; one ride opened
// shows its offers' timeline, with cancel and (admins) reassign.

import { ApiError, get, post, query } from "./api.js";
import { $, badge, el, render } from "./dom.js";
import { showFieldErrors } from "./forms.js";
import { formatDateTime, formatSeconds, t } from "./i18n.js";
import { driverName, offerList, routeLine } from "./ride_parts.js";

let openRideId = null;
let openRide = null;

export async function refreshRides(ctx) {
  const status = $("#ride-filter").value;
  const answer = await get(`/rides${query({ status, limit: 50 })}`);
  const names = answer.rides.map((ride) => ride.driver_id && driverName(ctx, ride.driver_id));
  render($("#rides-table tbody"), [answer.rides, names], () =>
    answer.rides.map((ride) =>
      el(
        "tr",
        { dataset: { rideId: ride.ride_id, status: ride.status } },
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              class: "link",
              "aria-label": `${t("open")} ${ride.code}`,
              dataset: { action: "open-ride", rideId: ride.ride_id, focusKey: `open-${ride.ride_id}` },
            },
            ride.code,
          ),
        ),
        el("td", {}, badge("ride", ride.status, t(`status.${ride.status}`))),
        el("td", {}, el("bdi", {}, ride.driver_id ? driverName(ctx, ride.driver_id) : "—")),
        el("td", {}, formatDateTime(ride.created_at)),
        el("td", {}, formatSeconds(ride.time_to_match_seconds)),
      ),
    ),
  );
  if (openRideId) await refreshRideDetail(ctx);
}

export async function openRideDetail(ctx, rideId) {
  openRideId = rideId;
  const detail = $("#ride-detail");
  detail.hidden = false;
  detail.replaceChildren(el("div", { id: "ride-detail-info" }), el("div", { id: "ride-detail-actions" }));
  await refreshRideDetail(ctx);
  renderActions(ctx);
  detail.querySelector("h3")?.focus();
}

export function closeRideDetail() {
  openRideId = openRide = null;
  $("#ride-detail").hidden = true;
}

async function refreshRideDetail(ctx) {
  const ride = await get(`/rides/${encodeURIComponent(openRideId)}`);
  const statusChanged = openRide && openRide.status !== ride.status;
  openRide = ride;
  const names = (ride.offers || []).map((offer) => driverName(ctx, offer.driver_id));
  render($("#ride-detail-info"), [ride, names], () => [
    el("h3", { tabindex: "-1" }, ride.code, " ", badge("ride", ride.status, t(`status.${ride.status}`))),
    routeLine(ride),
    el("p", { class: "hint" }, el("bdi", {}, ride.customer.name), " · ", formatDateTime(ride.created_at)),
    offerList(ctx, "ol", ride.offers || [], "timeline"),
  ]);
  if (statusChanged) renderActions(ctx);
}

function renderActions(ctx) {
  const ride = openRide;
  const actions = [
    el("button", { type: "button", dataset: { action: "close-ride" } }, t("close")),
  ];
  if (["searching", "scheduled"].includes(ride.status)) {
    actions.push(
      el("button", { type: "button", class: "danger", dataset: { action: "cancel", rideId: ride.ride_id, code: ride.code } }, t("cancel")),
    );
  }
  const container = $("#ride-detail-actions");
  container.replaceChildren(el("div", { class: "controls" }, actions));
  if (ctx.me.role === "admin" && ride.status === "assigned") container.append(reassignForm(ctx, ride));
}

function reassignForm(ctx, ride) {
  const choices = [...ctx.drivers.values()].filter((d) => d.status === "active" && d.driver_id !== ride.driver_id);
  const error = el("p", { class: "error", role: "alert" });
  const form = el(
    "form",
    { class: "reassign", novalidate: true },
    el("h4", {}, t("reassign")),
    el(
      "label",
      {},
      el("span", {}, t("reassign_to")),
      el(
        "select",
        { name: "driver_id" },
        el("option", { value: "" }, t("back_to_matching")),
        choices.map((d) => el("option", { value: d.driver_id }, d.name)),
      ),
    ),
    el("label", {}, el("span", {}, t("reason")), el("input", { name: "reason", autocomplete: "off" })),
    error,
    el("button", { type: "submit" }, t("reassign")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    if (form.elements.driver_id.value) body.driver_id = form.elements.driver_id.value;
    if (form.elements.reason.value.trim()) body.reason = form.elements.reason.value.trim();
    try {
      await post(`/rides/${encodeURIComponent(ride.ride_id)}/reassign`, body);
      showFieldErrors(form, error, null);
      ctx.notice(t("reassigned_ok", { code: ride.code }));
      await refreshRides(ctx);
      renderActions(ctx);
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      showFieldErrors(form, error, failure);
    }
  });
  return form;
}

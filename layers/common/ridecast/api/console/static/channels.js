// The Channels panel and the paused banner: the router's mode, each channel's health and counters, and the
// controls (mode, health check, reset counters, pause / resume).

import { get, post } from "./api.js";
import { $, badge, el, render } from "./dom.js";
import { formatDateTime, formatMilliseconds, formatPercent, t } from "./i18n.js";

export async function refreshDispatch(ctx) {
  showDispatch(ctx, await get("/dispatch/status"));
}

function showDispatch(ctx, status) {
  ctx.dispatch = status;
  ctx.paused = status.paused;
  $("#paused-banner").hidden = !status.paused;
  // held_rides: how many rides wait for the resume (absent from an API without pause).
  $("#held-count").textContent = status.paused && status.held_rides !== undefined ? t("held_count", { count: status.held_rides }) : "";
  for (const button of document.querySelectorAll("#panel-channels [data-action=pause]")) button.hidden = status.paused;
  for (const button of document.querySelectorAll("#panel-channels [data-action=resume]")) button.hidden = !status.paused;
  const mode = $("#router-mode");
  if (document.activeElement !== mode) mode.value = status.mode;
  render($("#channel-cards"), status.channels, () =>
    Object.entries(status.channels).map(([name, channel]) =>
      el(
        "article",
        { class: "card channel", dataset: { channel: name, status: channel.status }, "aria-labelledby": `channel-${name}` },
        el("h3", { id: `channel-${name}` }, name, " ", badge("health", channel.status, t(channel.status))),
        el(
          "dl",
          { class: "figures" },
          figure(t("source"), channel.source ?? "—"),
          figure(t("attempts"), channel.attempts),
          figure(t("successes"), channel.successes),
          figure(t("failures"), channel.failures),
          figure(t("success_rate"), formatPercent(channel.success_rate)),
          figure(t("latency"), formatMilliseconds(channel.avg_latency_ms)),
          figure(t("consecutive_failures"), channel.consecutive_failures),
          figure(t("last_success"), formatDateTime(channel.last_success_at)),
        ),
      ),
    ),
  );
}

export function figure(term, value) {
  return el("div", {}, el("dt", {}, term), el("dd", {}, String(value)));
}

/** POST one of the dispatch controls; each answers the new status. */
export async function dispatchControl(ctx, path, body) {
  showDispatch(ctx, await post(path, body));
}

// The Drivers panel: status, channel, Telegram registration, last seen; block / unblock; one driver's
// Telegram link and QR code; a message to every active driver or to the ones ticked.

import { ApiError, get, patch, post } from "./api.js";
import { $, badge, el, render } from "./dom.js";
import { showFieldErrors } from "./forms.js";
import { formatDateTime, t } from "./i18n.js";

const ticked = new Set();

/** Every driver of the fleet into ctx.drivers (names for the other panels too). */
export async function loadDrivers(ctx) {
  const answer = await get("/drivers");
  ctx.drivers = new Map(answer.drivers.map((driver) => [driver.driver_id, driver]));
}

export async function refreshDrivers(ctx) {
  await loadDrivers(ctx);
  const drivers = [...ctx.drivers.values()];
  render($("#drivers-table tbody"), [drivers, [...ticked]], () => drivers.map((driver) => row(driver)));
}

function row(driver) {
  const id = driver.driver_id;
  const blocked = driver.status === "blocked";
  return el(
    "tr",
    { dataset: { driverId: id, status: driver.status } },
    el(
      "td",
      {},
      el("input", {
        type: "checkbox",
        "aria-label": t("select_driver", { name: driver.name }),
        checked: ticked.has(id),
        dataset: { action: "tick-driver", driverId: id, focusKey: `tick-${id}` },
      }),
    ),
    el("td", {}, el("bdi", {}, driver.name)),
    el("td", {}, badge("driver", driver.status, t(`driver.${driver.status}`))),
    el("td", {}, badge("channel", driver.channel, driver.channel)),
    el("td", {}, driver.telegram_registered ? t("registered") : t("not_registered")),
    el("td", {}, formatDateTime(driver.last_seen_at)),
    el(
      "td",
      { class: "actions" },
      el(
        "button",
        {
          type: "button",
          "aria-label": `${blocked ? t("unblock") : t("block")}: ${driver.name}`,
          dataset: { action: blocked ? "unblock" : "block", driverId: id, focusKey: `block-${id}` },
        },
        blocked ? t("unblock") : t("block"),
      ),
      el(
        "button",
        {
          type: "button",
          "aria-label": `${t("telegram_link")}: ${driver.name}`,
          dataset: { action: "telegram-link", driverId: id, focusKey: `link-${id}` },
        },
        t("telegram_link"),
      ),
    ),
  );
}

export function tickDriver(driverId, checked) {
  if (checked) ticked.add(driverId);
  else ticked.delete(driverId);
}

export async function setBlocked(ctx, driverId, blocked) {
  await patch(`/drivers/${encodeURIComponent(driverId)}`, { status: blocked ? "blocked" : "active" });
  await refreshDrivers(ctx);
}

export async function showTelegramLink(ctx, driverId) {
  const driver = ctx.drivers.get(driverId);
  const box = $("#telegram-link");
  box.hidden = false;
  try {
    const link = await get(`/drivers/${encodeURIComponent(driverId)}/telegram-link`);
    // The QR code is the API's SVG shown as an image: an <img> never runs what a document might carry.
    const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qr_svg)}`;
    box.replaceChildren(
      el("h3", { tabindex: "-1" }, t("telegram_link"), ": ", el("bdi", {}, driver?.name ?? driverId)),
      el("p", {}, el("a", { href: link.url, rel: "noreferrer noopener", target: "_blank", dir: "ltr" }, link.url)),
      el("img", { src: qr, alt: t("qr_of", { name: driver?.name ?? driverId }), class: "qr", width: "200", height: "200" }),
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    box.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
  box.querySelector("h3")?.focus();
}

export function setUpMessageForm(ctx) {
  const form = $("#message-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { text: form.elements.text.value.trim() };
    if (ticked.size) body.driver_ids = [...ticked];
    try {
      const answer = await post("/drivers/message", body);
      showFieldErrors(form, $("#message-error"), null);
      form.reset();
      ctx.notice(t("sent_to", { count: answer.recipients }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showFieldErrors(form, $("#message-error"), error);
    }
  });
}

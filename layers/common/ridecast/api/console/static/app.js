// The console: sign in with a fleet key, then refresh what is on screen every 2 seconds (SPEC §9).
// Each refresh asks for the Now panel's matchings, the dispatch status (admins: the paused banner) and the
// open panel's own read; nothing is polled while the tab is hidden.

import { ApiError, forgetKey, get, post, saveKey, savedKey } from "./api.js";
import { dispatchControl, refreshDispatch } from "./channels.js";
import { $, $$, notify } from "./dom.js";
import { loadDrivers, refreshDrivers, setBlocked, setUpMessageForm, showTelegramLink, tickDriver } from "./drivers.js";
import { chooseLanguage, formatTime, setLanguage, t } from "./i18n.js";
import { refreshNow, rerenderNow, setUpRideForm, tickCountdowns } from "./now.js";
import { closeRideDetail, openRideDetail, refreshRides } from "./rides.js";
import { refreshStats } from "./stats.js";

const REFRESH_MS = 2000;
const DRIVER_NAMES_EVERY = 15; // refreshes between two reads of the drivers' names (30 s)
const LANGUAGE_KEY = "ridecast.console.language";

const ctx = {
  me: null,
  drivers: new Map(),
  dispatch: null,
  paused: false,
  notice: (message, kind) => notify($("#notice"), message, kind),
};
let panel = "now";
let timer = null;
let refreshes = 0;

const PANELS = { now: null, rides: refreshRides, drivers: refreshDrivers, channels: null, stats: refreshStats };

function chosenLanguage() {
  return sessionStorage.getItem(LANGUAGE_KEY);
}

function applyLanguage(lang) {
  setLanguage(lang);
  $("#language").value = lang;
}

async function signIn(key) {
  // GET /me says whose key it is: the fleet, its role and its language.
  ctx.me = await get("/me", { key });
  saveKey(key);
  applyLanguage(chosenLanguage() || chooseLanguage(ctx.me.language));
  $("#fleet-name").textContent = ctx.me.fleet_name;
  for (const node of $$("[data-admin]")) node.hidden = ctx.me.role !== "admin";
  $("#sign-in").hidden = true;
  $("#console").hidden = false;
  $("#sign-out").hidden = false;
  if (ctx.me.role === "admin") await loadDrivers(ctx).catch(() => {});
  await refresh();
}

function signOut(message) {
  forgetKey();
  clearTimeout(timer);
  timer = null;
  ctx.me = null;
  ctx.drivers = new Map();
  $("#console").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#fleet-name").textContent = "";
  $("#sign-in-error").textContent = message || "";
  $("#api-key").value = "";
  $("#api-key").focus();
}

function refusal(error) {
  if (error instanceof ApiError && error.status === 401) return t("wrong_key");
  if (error instanceof ApiError && error.status === 403) return t("root_key");
  return null;
}

async function refresh() {
  clearTimeout(timer);
  if (!ctx.me) return;
  if (document.visibilityState !== "hidden") {
    const admin = ctx.me.role === "admin";
    const reads = [refreshNow(ctx)];
    if (admin) reads.push(refreshDispatch(ctx));
    if (admin && panel !== "drivers" && refreshes % DRIVER_NAMES_EVERY === 0) reads.push(loadDrivers(ctx));
    if (PANELS[panel]) reads.push(PANELS[panel](ctx));
    refreshes += 1;
    const results = await Promise.allSettled(reads);
    const failure = results.find((result) => result.status === "rejected")?.reason;
    const refused = failure && refusal(failure);
    if (refused) {
      signOut(refused); // the key was revoked meanwhile
      return;
    }
    if (failure) ctx.notice(failure instanceof ApiError ? failure.message : t("unreachable"), "error");
    else $("#refreshed").textContent = t("refreshed", { time: formatTime(new Date().toISOString()) });
  }
  if (ctx.me) timer = setTimeout(refresh, REFRESH_MS);
}

function showPanel(name) {
  panel = name;
  for (const tab of $$("[role=tab]")) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
  }
  refresh();
}

async function act(button) {
  const { action, rideId, driverId, code } = button.dataset;
  switch (action) {
    case "cancel":
      await post(`/rides/${encodeURIComponent(rideId)}/cancel`, {});
      ctx.notice(t("cancelled_ok", { code }));
      break;
    case "open-ride":
      return openRideDetail(ctx, rideId);
    case "close-ride":
      return closeRideDetail();
    case "block":
    case "unblock":
      return setBlocked(ctx, driverId, action === "block");
    case "telegram-link":
      return showTelegramLink(ctx, driverId);
    case "pause":
    case "resume":
      await dispatchControl(ctx, `/dispatch/${action}`);
      rerenderNow(ctx);
      break;
    case "health-check":
      return dispatchControl(ctx, "/dispatch/health-check");
    case "reset-counters":
      return dispatchControl(ctx, "/dispatch/stats/reset");
    default:
      return undefined;
  }
  return refresh();
}

function setUp() {
  applyLanguage(chosenLanguage() || chooseLanguage(navigator.language.slice(0, 2)));
  $("#language").addEventListener("change", (event) => {
    sessionStorage.setItem(LANGUAGE_KEY, event.target.value);
    applyLanguage(event.target.value);
    if (ctx.me) refresh();
  });
  $("#sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("#api-key").value.trim();
    if (!key) {
      $("#sign-in-error").textContent = t("wrong_key");
      return;
    }
    try {
      await signIn(key);
      $("#sign-in-error").textContent = "";
    } catch (error) {
      signOut(refusal(error) || t("unreachable"));
    }
  });
  $("#sign-out").addEventListener("click", () => signOut());
  for (const tab of $$("[role=tab]")) tab.addEventListener("click", () => showPanel(tab.id.replace("tab-", "")));
  $("nav.tabs").addEventListener("keydown", (event) => {
    // Arrow keys move between tabs (WAI-ARIA tabs pattern); in a right-to-left page they swap.
    if (!["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const tabs = $$("[role=tab]").filter((tab) => !tab.hidden);
    const forward = (event.key === "ArrowRight") !== (document.documentElement.dir === "rtl");
    const index = tabs.indexOf(document.activeElement);
    const next = tabs[(index + (forward ? 1 : -1) + tabs.length) % tabs.length];
    next.focus();
    next.click();
  });
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    try {
      await act(button);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      ctx.notice(error.message, "error");
    }
  });
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.dataset.action === "tick-driver") tickDriver(target.dataset.driverId, target.checked);
  });
  $("#router-mode").addEventListener("change", async (event) => {
    try {
      await dispatchControl(ctx, "/dispatch/mode", { mode: event.target.value });
      ctx.notice(t("mode_saved", { mode: event.target.selectedOptions[0].textContent }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      ctx.notice(error.message, "error");
    }
  });
  $("#ride-filter").addEventListener("change", () => refresh());
  $("#stats-period").addEventListener("change", () => refresh());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && ctx.me) refresh();
  });
  setUpRideForm(ctx);
  setUpMessageForm(ctx);
  setInterval(tickCountdowns, 1000);
  const key = savedKey();
  if (key) signIn(key).catch((error) => signOut(refusal(error) || t("unreachable")));
  else $("#api-key").focus();
}

setUp();

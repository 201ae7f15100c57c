// The Stats panel: GET /stats for the chosen period, with two SVG charts: the time-to-match distribution
// (the API's histogram) and the acceptance rate per day (one GET /stats per day, fetched when the period
// changes and then once a minute, not at every refresh).

import { get, query } from "./api.js";
import { $, el, render } from "./dom.js";
import { barChart } from "./charts.js";
import { figure } from "./channels.js";
import { formatPercent, formatSeconds, language, t } from "./i18n.js";

const DAY_MS = 86_400_000;
const DAILY_EVERY_MS = 60_000;
let daily = { period: null, at: 0, days: [] };

export async function refreshStats() {
  const periodDays = Number($("#stats-period").value);
  const until = new Date();
  const since = new Date(until.getTime() - periodDays * DAY_MS);
  const stats = await get(`/stats${query({ since: since.toISOString(), until: until.toISOString() })}`);
  render($("#stats-figures"), stats, () => [
    figure(t("total_rides"), stats.rides.total),
    figure(t("acceptance_rate"), formatPercent(stats.acceptance_rate)),
    figure(t("timeout_rate"), formatPercent(stats.timeout_rate)),
    figure(`${t("time_to_match")} · ${t("mean")}`, formatSeconds(stats.time_to_match_seconds.mean)),
    figure(`${t("time_to_match")} · p50`, formatSeconds(stats.time_to_match_seconds.p50)),
    figure(`${t("time_to_match")} · p95`, formatSeconds(stats.time_to_match_seconds.p95)),
    figure(t("mean_notified"), stats.mean_drivers_notified ?? "—"),
    figure(t("active_matchings"), stats.active_matchings),
  ]);
  render($("#ttm-chart"), stats.time_to_match_histogram, () => timeToMatchChart(stats.time_to_match_histogram));
  if (daily.period !== periodDays || Date.now() - daily.at > DAILY_EVERY_MS) {
    daily = { period: periodDays, at: Date.now(), days: await perDay(periodDays, until) };
  }
  render($("#acceptance-chart"), daily.days, () => acceptanceChart(daily.days));
}

function timeToMatchChart(histogram) {
  const matched = histogram.reduce((sum, bucket) => sum + bucket.rides, 0);
  if (!matched) return el("p", { class: "empty" }, t("no_data"));
  // Up to the slowest bucket that holds a ride, and never fewer than the first minute's buckets.
  const last = Math.max(histogram.findLastIndex((bucket) => bucket.rides > 0), 11);
  const bars = histogram.slice(0, last + 1).map((bucket) => ({
    label: bucket.up_to_seconds === null ? "∞" : `≤${bucket.up_to_seconds}`,
    value: bucket.rides,
  }));
  return barChart({ title: t("ttm_chart"), bars });
}

async function perDay(periodDays, until) {
  const end = new Date(Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate()) + DAY_MS);
  const days = Array.from({ length: periodDays }, (_, index) => new Date(end.getTime() - (periodDays - index) * DAY_MS));
  return Promise.all(
    days.map(async (day) => {
      const stats = await get(`/stats${query({ since: day.toISOString(), until: new Date(day.getTime() + DAY_MS).toISOString() })}`);
      return { day, rate: stats.acceptance_rate };
    }),
  );
}

function acceptanceChart(days) {
  if (!days.some((day) => day.rate !== null)) return el("p", { class: "empty" }, t("no_data"));
  const format = new Intl.DateTimeFormat(language(), { month: "numeric", day: "numeric", timeZone: "UTC" });
  const bars = days.map(({ day, rate }) => ({
    label: format.format(day),
    value: rate ?? 0,
    title: `${format.format(day)}: ${formatPercent(rate)}`,
  }));
  return barChart({ title: t("acceptance_chart"), bars, max: 1, formatValue: formatPercent });
}

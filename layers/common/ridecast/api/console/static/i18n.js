// The console's words in the fleet's languages (SPEC §9), and right-to-left for Hebrew and Arabic.
// Markup names its words with data-i18n (text), data-i18n-label (aria-label) and data-i18n-placeholder;
// code asks t(key, values). Plurals go through Intl.PluralRules, so Arabic gets its six forms.

export const LANGUAGES = ["en", "fr", "he", "ar"];
const RTL = new Set(["he", "ar"]);

const MESSAGES = {
  en: {
    title: "Ridecast console", arrow: "→", sign_in: "Sign in", api_key: "API key", sign_out: "Sign out",
    key_hint: "A fleet admin or dispatcher key. It stays in this tab only.",
    wrong_key: "This key was refused: check it and try again.",
    root_key: "This is the platform key: sign in with a key of a fleet.",
    unreachable: "The API cannot be reached; retrying.",
    language: "Language", now: "Now", rides: "Rides", drivers: "Drivers", channels: "Channels", stats: "Stats",
    paused_banner: "Dispatch is paused: new rides are held until it resumes.",
    held_count: { one: "{count} ride held.", other: "{count} rides held." },
    pause: "Pause dispatch", resume: "Resume dispatch",
    no_matchings: "No ride is matching right now.",
    deadline_in: "deadline in {time}", deadline_passed: "deadline passed", held: "held",
    new_ride: "New ride", customer_name: "Customer name", customer_phone: "Customer phone (+E.164)",
    pickup: "Pickup address", dropoff: "Dropoff address", notes: "Notes", create: "Create ride",
    created: "Ride {code} created.", cancel: "Cancel ride", cancelled_ok: "Ride {code} cancelled.",
    reassign: "Reassign", reassign_to: "Give it to", back_to_matching: "Back to matching (other drivers)",
    reason: "Reason", reassigned_ok: "Ride {code} reassigned.",
    code: "Code", status: "Status", driver: "Driver", created_at: "Created", time_to_match: "Time to match",
    filter_status: "Filter by status", all: "All", open: "Open", close: "Close", offers: "Offers",
    channel: "Channel", wave: "Wave", sent_at: "Sent", responded_at: "Answered", error: "Error",
    name: "Name", telegram: "Telegram", registered: "registered", not_registered: "not registered",
    last_seen: "Last seen", never: "never", block: "Block", unblock: "Unblock",
    telegram_link: "Telegram link", qr_of: "QR code of the Telegram link for {name}",
    message_drivers: "Message drivers", message_text: "Message",
    message_hint: "To every active driver, or only to the drivers ticked in the list.",
    send: "Send", select_driver: "Select {name}",
    sent_to: { one: "Sent to {count} driver.", other: "Sent to {count} drivers." },
    mode: "Router mode", mode_saved: "Router mode: {mode}.", mode_auto: "auto (fallback between channels)", mode_telegram: "Telegram only",
    mode_twilio: "Twilio only (SMS, WhatsApp)", health_check: "Health check", reset_counters: "Reset counters",
    online: "online", offline: "offline", unknown: "unknown", source: "Source",
    attempts: "Attempts", successes: "Successes", failures: "Failures", success_rate: "Success rate",
    latency: "Mean latency", consecutive_failures: "Failures in a row", last_success: "Last success",
    period: "Period", last_24h: "Last 24 hours", last_7d: "Last 7 days", last_30d: "Last 30 days",
    total_rides: "Rides", acceptance_rate: "Acceptance rate", timeout_rate: "Timeout rate",
    mean: "Mean", active_matchings: "Matching now", mean_notified: "Drivers notified per ride",
    ttm_chart: "Time to match (rides per bucket)", acceptance_chart: "Acceptance rate per day",
    no_data: "No data for this period.",
    seconds: "{n} s", refreshed: "Updated {time}",
    drivers_count: { one: "{count} driver", other: "{count} drivers" },
    offers_count: { one: "{count} offer", other: "{count} offers" },
    "status.scheduled": "scheduled", "status.searching": "searching", "status.assigned": "assigned",
    "status.timed_out": "timed out", "status.cancelled": "cancelled", "status.failed": "failed",
    "offer.sent": "sent", "offer.failed": "failed", "offer.accepted": "accepted", "offer.rejected": "rejected",
    "offer.timeout": "timeout", "offer.taken": "taken", "offer.cancelled": "cancelled", "offer.released": "released",
    "driver.active": "active", "driver.inactive": "inactive", "driver.blocked": "blocked",
  },
  fr: {
    title: "Console Ridecast", arrow: "→", sign_in: "Se connecter", api_key: "Clé d’API", sign_out: "Se déconnecter",
    key_hint: "Une clé admin ou répartiteur de la flotte. Elle reste dans cet onglet seulement.",
    wrong_key: "Cette clé a été refusée : vérifiez-la et réessayez.",
    root_key: "C’est la clé de la plateforme : connectez-vous avec une clé de flotte.",
    unreachable: "L’API est injoignable ; nouvel essai en cours.",
    language: "Langue", now: "En direct", rides: "Courses", drivers: "Chauffeurs", channels: "Canaux",
    stats: "Statistiques",
    paused_banner: "La répartition est en pause : les nouvelles courses attendent la reprise.",
    held_count: { one: "{count} course en attente.", other: "{count} courses en attente." },
    pause: "Mettre en pause", resume: "Reprendre",
    no_matchings: "Aucune course en recherche pour l’instant.",
    deadline_in: "échéance dans {time}", deadline_passed: "échéance dépassée", held: "en attente",
    new_ride: "Nouvelle course", customer_name: "Nom du client", customer_phone: "Téléphone du client (+E.164)",
    pickup: "Adresse de prise en charge", dropoff: "Adresse de destination", notes: "Notes",
    create: "Créer la course", created: "Course {code} créée.", cancel: "Annuler la course",
    cancelled_ok: "Course {code} annulée.", reassign: "Réattribuer", reassign_to: "La confier à",
    back_to_matching: "Remettre en recherche (autres chauffeurs)", reason: "Motif",
    reassigned_ok: "Course {code} réattribuée.",
    code: "Code", status: "Statut", driver: "Chauffeur", created_at: "Créée", time_to_match: "Délai d’attribution",
    filter_status: "Filtrer par statut", all: "Tous", open: "Ouvrir", close: "Fermer", offers: "Offres",
    channel: "Canal", wave: "Vague", sent_at: "Envoyée", responded_at: "Réponse", error: "Erreur",
    name: "Nom", telegram: "Telegram", registered: "inscrit", not_registered: "non inscrit",
    last_seen: "Vu pour la dernière fois", never: "jamais", block: "Bloquer", unblock: "Débloquer",
    telegram_link: "Lien Telegram", qr_of: "QR code du lien Telegram de {name}",
    message_drivers: "Écrire aux chauffeurs", message_text: "Message",
    message_hint: "À tous les chauffeurs actifs, ou seulement à ceux cochés dans la liste.",
    send: "Envoyer", select_driver: "Sélectionner {name}",
    sent_to: { one: "Envoyé à {count} chauffeur.", other: "Envoyé à {count} chauffeurs." },
    mode: "Mode du routeur", mode_saved: "Mode du routeur : {mode}.", mode_auto: "auto (bascule entre canaux)", mode_telegram: "Telegram seulement",
    mode_twilio: "Twilio seulement (SMS, WhatsApp)", health_check: "Vérifier les canaux",
    reset_counters: "Remettre à zéro", online: "en ligne", offline: "hors ligne", unknown: "inconnu",
    source: "Source", attempts: "Tentatives", successes: "Réussites", failures: "Échecs",
    success_rate: "Taux de réussite", latency: "Latence moyenne", consecutive_failures: "Échecs consécutifs",
    last_success: "Dernière réussite",
    period: "Période", last_24h: "Dernières 24 heures", last_7d: "7 derniers jours", last_30d: "30 derniers jours",
    total_rides: "Courses", acceptance_rate: "Taux d’acceptation", timeout_rate: "Taux d’expiration",
    mean: "Moyenne", active_matchings: "En recherche", mean_notified: "Chauffeurs prévenus par course",
    ttm_chart: "Délai d’attribution (courses par tranche)", acceptance_chart: "Taux d’acceptation par jour",
    no_data: "Aucune donnée pour cette période.",
    seconds: "{n} s", refreshed: "Mis à jour à {time}",
    drivers_count: { one: "{count} chauffeur", other: "{count} chauffeurs" },
    offers_count: { one: "{count} offre", other: "{count} offres" },
    "status.scheduled": "programmée", "status.searching": "en recherche", "status.assigned": "attribuée",
    "status.timed_out": "expirée", "status.cancelled": "annulée", "status.failed": "en échec",
    "offer.sent": "envoyée", "offer.failed": "échec", "offer.accepted": "acceptée", "offer.rejected": "refusée",
    "offer.timeout": "sans réponse", "offer.taken": "prise", "offer.cancelled": "annulée",
    "offer.released": "rendue",
    "driver.active": "actif", "driver.inactive": "inactif", "driver.blocked": "bloqué",
  },
  he: {
    title: "מסוף Ridecast", arrow: "←", sign_in: "כניסה", api_key: "מפתח API", sign_out: "יציאה",
    key_hint: "מפתח מנהל או סדרן של הצי. הוא נשמר בלשונית זו בלבד.",
    wrong_key: "המפתח נדחה: בדקו אותו ונסו שוב.",
    root_key: "זהו מפתח הפלטפורמה: היכנסו עם מפתח של צי.",
    unreachable: "אין גישה ל-API; מנסה שוב.",
    language: "שפה", now: "עכשיו", rides: "נסיעות", drivers: "נהגים", channels: "ערוצים", stats: "סטטיסטיקה",
    paused_banner: "השיבוץ מושהה: נסיעות חדשות ממתינות עד לחידוש.",
    held_count: { one: "נסיעה אחת ממתינה.", two: "שתי נסיעות ממתינות.", other: "{count} נסיעות ממתינות." },
    pause: "השהיית שיבוץ", resume: "חידוש שיבוץ",
    no_matchings: "אין כרגע נסיעה בחיפוש נהג.",
    deadline_in: "מועד אחרון בעוד {time}", deadline_passed: "המועד חלף", held: "ממתינה",
    new_ride: "נסיעה חדשה", customer_name: "שם הלקוח", customer_phone: "טלפון הלקוח (+E.164)",
    pickup: "כתובת איסוף", dropoff: "כתובת יעד", notes: "הערות", create: "יצירת נסיעה",
    created: "הנסיעה {code} נוצרה.", cancel: "ביטול נסיעה", cancelled_ok: "הנסיעה {code} בוטלה.",
    reassign: "העברה לנהג אחר", reassign_to: "להעביר אל", back_to_matching: "חזרה לחיפוש (נהגים אחרים)",
    reason: "סיבה", reassigned_ok: "הנסיעה {code} הועברה.",
    code: "קוד", status: "מצב", driver: "נהג", created_at: "נוצרה", time_to_match: "זמן לשיבוץ",
    filter_status: "סינון לפי מצב", all: "הכול", open: "פתיחה", close: "סגירה", offers: "הצעות",
    channel: "ערוץ", wave: "גל", sent_at: "נשלחה", responded_at: "נענתה", error: "שגיאה",
    name: "שם", telegram: "טלגרם", registered: "רשום", not_registered: "לא רשום",
    last_seen: "נראה לאחרונה", never: "אף פעם", block: "חסימה", unblock: "ביטול חסימה",
    telegram_link: "קישור טלגרם", qr_of: "קוד QR של קישור הטלגרם של {name}",
    message_drivers: "הודעה לנהגים", message_text: "הודעה",
    message_hint: "לכל הנהגים הפעילים, או רק לנהגים המסומנים ברשימה.",
    send: "שליחה", select_driver: "בחירת {name}",
    sent_to: { one: "נשלח לנהג אחד.", two: "נשלח לשני נהגים.", other: "נשלח ל-{count} נהגים." },
    mode: "מצב הנתב", mode_saved: "מצב הנתב: {mode}.", mode_auto: "אוטומטי (מעבר בין ערוצים)", mode_telegram: "טלגרם בלבד",
    mode_twilio: "Twilio בלבד (SMS, וואטסאפ)", health_check: "בדיקת ערוצים", reset_counters: "איפוס מונים",
    online: "מחובר", offline: "מנותק", unknown: "לא ידוע", source: "מקור",
    attempts: "ניסיונות", successes: "הצלחות", failures: "כישלונות", success_rate: "שיעור הצלחה",
    latency: "השהיה ממוצעת", consecutive_failures: "כישלונות ברצף", last_success: "הצלחה אחרונה",
    period: "תקופה", last_24h: "24 השעות האחרונות", last_7d: "7 הימים האחרונים", last_30d: "30 הימים האחרונים",
    total_rides: "נסיעות", acceptance_rate: "שיעור קבלה", timeout_rate: "שיעור פקיעה",
    mean: "ממוצע", active_matchings: "בחיפוש כעת", mean_notified: "נהגים שקיבלו הצעה לנסיעה",
    ttm_chart: "זמן לשיבוץ (נסיעות לפי טווח)", acceptance_chart: "שיעור קבלה לפי יום",
    no_data: "אין נתונים לתקופה זו.",
    seconds: "{n} שנ׳", refreshed: "עודכן ב-{time}",
    drivers_count: { one: "נהג אחד", two: "שני נהגים", other: "{count} נהגים" },
    offers_count: { one: "הצעה אחת", two: "שתי הצעות", other: "{count} הצעות" },
    "status.scheduled": "מתוזמנת", "status.searching": "בחיפוש", "status.assigned": "שובצה",
    "status.timed_out": "פג תוקף", "status.cancelled": "בוטלה", "status.failed": "נכשלה",
    "offer.sent": "נשלחה", "offer.failed": "נכשלה", "offer.accepted": "התקבלה", "offer.rejected": "נדחתה",
    "offer.timeout": "לא נענתה", "offer.taken": "נלקחה", "offer.cancelled": "בוטלה", "offer.released": "הוחזרה",
    "driver.active": "פעיל", "driver.inactive": "לא פעיל", "driver.blocked": "חסום",
  },
  ar: {
    title: "لوحة Ridecast", arrow: "←", sign_in: "تسجيل الدخول", api_key: "مفتاح API", sign_out: "تسجيل الخروج",
    key_hint: "مفتاح مسؤول أو موزّع في الأسطول. يبقى في هذا التبويب فقط.",
    wrong_key: "رُفض هذا المفتاح: تحقّق منه وحاول مجددًا.",
    root_key: "هذا مفتاح المنصة: سجّل الدخول بمفتاح أسطول.",
    unreachable: "تعذّر الوصول إلى الـAPI؛ جارٍ إعادة المحاولة.",
    language: "اللغة", now: "الآن", rides: "الرحلات", drivers: "السائقون", channels: "القنوات",
    stats: "الإحصاءات",
    paused_banner: "التوزيع متوقف مؤقتًا: الرحلات الجديدة معلّقة حتى الاستئناف.",
    held_count: {
      zero: "لا رحلات معلّقة.", one: "رحلة واحدة معلّقة.", two: "رحلتان معلّقتان.", few: "{count} رحلات معلّقة.",
      many: "{count} رحلة معلّقة.", other: "{count} رحلة معلّقة.",
    },
    pause: "إيقاف التوزيع مؤقتًا", resume: "استئناف التوزيع",
    no_matchings: "لا توجد رحلة قيد البحث عن سائق الآن.",
    deadline_in: "المهلة تنتهي خلال {time}", deadline_passed: "انتهت المهلة", held: "معلّقة",
    new_ride: "رحلة جديدة", customer_name: "اسم العميل", customer_phone: "هاتف العميل (+E.164)",
    pickup: "عنوان الانطلاق", dropoff: "عنوان الوصول", notes: "ملاحظات", create: "إنشاء الرحلة",
    created: "أُنشئت الرحلة {code}.", cancel: "إلغاء الرحلة", cancelled_ok: "أُلغيت الرحلة {code}.",
    reassign: "إعادة الإسناد", reassign_to: "إسنادها إلى", back_to_matching: "إعادتها للبحث (سائقون آخرون)",
    reason: "السبب", reassigned_ok: "أُعيد إسناد الرحلة {code}.",
    code: "الرمز", status: "الحالة", driver: "السائق", created_at: "أُنشئت", time_to_match: "زمن الإسناد",
    filter_status: "تصفية حسب الحالة", all: "الكل", open: "فتح", close: "إغلاق", offers: "العروض",
    channel: "القناة", wave: "الموجة", sent_at: "أُرسل", responded_at: "الرد", error: "خطأ",
    name: "الاسم", telegram: "تيليجرام", registered: "مسجّل", not_registered: "غير مسجّل",
    last_seen: "آخر ظهور", never: "أبدًا", block: "حظر", unblock: "إلغاء الحظر",
    telegram_link: "رابط تيليجرام", qr_of: "رمز QR لرابط تيليجرام الخاص بـ{name}",
    message_drivers: "مراسلة السائقين", message_text: "الرسالة",
    message_hint: "إلى كل السائقين النشطين، أو فقط إلى المحدَّدين في القائمة.",
    send: "إرسال", select_driver: "تحديد {name}",
    sent_to: {
      zero: "لم تُرسل إلى أي سائق.", one: "أُرسلت إلى سائق واحد.", two: "أُرسلت إلى سائقَين.",
      few: "أُرسلت إلى {count} سائقين.", many: "أُرسلت إلى {count} سائقًا.", other: "أُرسلت إلى {count} سائق.",
    },
    mode: "وضع الموجّه", mode_saved: "وضع الموجّه: {mode}.", mode_auto: "تلقائي (تحويل بين القنوات)", mode_telegram: "تيليجرام فقط",
    mode_twilio: "Twilio فقط (SMS، واتساب)", health_check: "فحص القنوات", reset_counters: "تصفير العدادات",
    online: "متصل", offline: "غير متصل", unknown: "غير معروف", source: "المصدر",
    attempts: "المحاولات", successes: "النجاحات", failures: "الإخفاقات", success_rate: "نسبة النجاح",
    latency: "متوسط زمن الاستجابة", consecutive_failures: "إخفاقات متتالية", last_success: "آخر نجاح",
    period: "الفترة", last_24h: "آخر 24 ساعة", last_7d: "آخر 7 أيام", last_30d: "آخر 30 يومًا",
    total_rides: "الرحلات", acceptance_rate: "نسبة القبول", timeout_rate: "نسبة انتهاء المهلة",
    mean: "المتوسط", active_matchings: "قيد البحث الآن", mean_notified: "السائقون المُبلَّغون لكل رحلة",
    ttm_chart: "زمن الإسناد (رحلات لكل فئة)", acceptance_chart: "نسبة القبول يوميًا",
    no_data: "لا بيانات لهذه الفترة.",
    seconds: "{n} ث", refreshed: "حُدّث {time}",
    drivers_count: {
      zero: "لا سائقين", one: "سائق واحد", two: "سائقان", few: "{count} سائقين", many: "{count} سائقًا",
      other: "{count} سائق",
    },
    offers_count: {
      zero: "لا عروض", one: "عرض واحد", two: "عرضان", few: "{count} عروض", many: "{count} عرضًا",
      other: "{count} عرض",
    },
    "status.scheduled": "مجدولة", "status.searching": "قيد البحث", "status.assigned": "أُسندت",
    "status.timed_out": "انتهت المهلة", "status.cancelled": "أُلغيت", "status.failed": "فشلت",
    "offer.sent": "أُرسل", "offer.failed": "فشل", "offer.accepted": "قُبل", "offer.rejected": "رُفض",
    "offer.timeout": "بلا رد", "offer.taken": "أُخذت", "offer.cancelled": "أُلغي", "offer.released": "أُعيدت",
    "driver.active": "نشط", "driver.inactive": "غير نشط", "driver.blocked": "محظور",
  },
};

let current = "en";

export function language() {
  return current;
}

export function chooseLanguage(wanted) {
  return LANGUAGES.includes(wanted) ? wanted : "en";
}

/** The word for `key` in the current language (English when missing), with {name} values filled in;
 * a value with `count` picks its plural form. */
export function t(key, values = {}) {
  let message = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
  if (typeof message === "object") {
    const form = new Intl.PluralRules(current).select(values.count ?? 0);
    message = message[form] ?? message.other;
  }
  return message.replace(/\{(\w+)\}/g, (whole, name) =>
    name in values ? format(values[name]) : whole,
  );
}

function format(value) {
  return typeof value === "number" ? new Intl.NumberFormat(current).format(value) : String(value);
}

export function setLanguage(lang, root = document) {
  current = chooseLanguage(lang);
  document.documentElement.lang = current;
  document.documentElement.dir = RTL.has(current) ? "rtl" : "ltr";
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.setAttribute("placeholder", t(node.dataset.i18nPlaceholder));
  }
  document.title = t("title");
}

export function formatTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(current, { timeStyle: "medium" }).format(new Date(iso));
}

export function formatDateTime(iso) {
  if (!iso) return t("never");
  return new Intl.DateTimeFormat(current, { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
}

export function formatPercent(rate) {
  if (rate === null || rate === undefined) return "—";
  return new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

export function formatMilliseconds(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Intl.NumberFormat(current, { style: "unit", unit: "millisecond", maximumFractionDigits: 0 }).format(ms);
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const n = new Intl.NumberFormat(current, { maximumFractionDigits: 1 }).format(seconds);
  return t("seconds", { n });
}

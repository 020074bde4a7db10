/**
 * `date_format` tokens (Moment/Day.js style, English names), computed in UTC or in an IANA time zone:
 * YYYY 2024 · YY 24 · MMMM January · MMM Jan · MM 01 · M 1 · DD 05 · D 5 · Do 5th · dddd Monday · ddd Mon · dd Mo ·
 * d 1 (Sunday = 0) · HH 09 · H 9 · hh 09 · h 9 (12-hour) · mm 07 · m 7 · ss 03 · s 3 · SSS 045 · A PM · a pm ·
 * Z +01:00 · ZZ +0100 · X unix seconds · x unix ms · [text] literal text.
 */

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const TOKENS = /\[([^\]]*)]|YYYY|YY|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|dd|d|HH|H|hh|h|mm|m|ss|s|SSS|A|a|ZZ|Z|X|x/g;

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  weekday: number;
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new Error(`unknown time zone "${timeZone}"`);
    }
    if (formatters.size > 100) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

function fieldsOf(ms: number, timeZone?: string): Fields {
  const millis = ((ms % 1000) + 1000) % 1000;
  if (!timeZone || timeZone === "UTC" || timeZone === "Etc/UTC") {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millis,
      weekday: d.getUTCDay(),
      offsetMinutes: 0,
    };
  }
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second,
    millis,
    weekday: new Date(wall).getUTCDay(),
    offsetMinutes: Math.round((wall - (ms - millis)) / 60_000),
  };
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, "0");

function ordinal(n: number): string {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function offset(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ":" : ""}${pad(abs % 60)}`;
}

/** Formats an instant (ms) with the tokens above; throws on an unknown time zone. */
export function formatDate(ms: number, format: string, timeZone?: string): string {
  const f = fieldsOf(ms, timeZone);
  const hour12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
  return format.replace(TOKENS, (token, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case "YYYY":
        return pad(f.year, 4);
      case "YY":
        return pad(f.year % 100);
      case "MMMM":
        return MONTHS[f.month - 1];
      case "MMM":
        return MONTHS[f.month - 1].slice(0, 3);
      case "MM":
        return pad(f.month);
      case "M":
        return String(f.month);
      case "Do":
        return ordinal(f.day);
      case "DD":
        return pad(f.day);
      case "D":
        return String(f.day);
      case "dddd":
        return DAYS[f.weekday];
      case "ddd":
        return DAYS[f.weekday].slice(0, 3);
      case "dd":
        return DAYS[f.weekday].slice(0, 2);
      case "d":
        return String(f.weekday);
      case "HH":
        return pad(f.hour);
      case "H":
        return String(f.hour);
      case "hh":
        return pad(hour12);
      case "h":
        return String(hour12);
      case "mm":
        return pad(f.minute);
      case "m":
        return String(f.minute);
      case "ss":
        return pad(f.second);
      case "s":
        return String(f.second);
      case "SSS":
        return pad(f.millis, 3);
      case "A":
        return f.hour < 12 ? "AM" : "PM";
      case "a":
        return f.hour < 12 ? "am" : "pm";
      case "ZZ":
        return offset(f.offsetMinutes, false);
      case "Z":
        return offset(f.offsetMinutes, true);
      case "X":
        return String(Math.floor(ms / 1000));
      case "x":
        return String(ms);
      default:
        return token;
    }
  });
}

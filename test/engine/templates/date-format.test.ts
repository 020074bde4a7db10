import { describe, expect, it } from "vitest";
import { parseIsoString, toInstant } from "../../../src/engine/conditions/dates";
import { formatDate } from "../../../src/engine/templates/date-format";

const T = Date.UTC(2024, 0, 5, 9, 7, 3, 45); // Friday 2024-01-05T09:07:03.045Z

describe("date_format tokens", () => {
  it.each<[string, string]>([
    ["YYYY", "2024"],
    ["YY", "24"],
    ["MMMM", "January"],
    ["MMM", "Jan"],
    ["MM", "01"],
    ["M", "1"],
    ["DD", "05"],
    ["D", "5"],
    ["Do", "5th"],
    ["dddd", "Friday"],
    ["ddd", "Fri"],
    ["dd", "Fr"],
    ["d", "5"],
    ["HH", "09"],
    ["H", "9"],
    ["hh", "09"],
    ["h", "9"],
    ["mm", "07"],
    ["m", "7"],
    ["ss", "03"],
    ["s", "3"],
    ["SSS", "045"],
    ["A", "AM"],
    ["a", "am"],
    ["Z", "+00:00"],
    ["ZZ", "+0000"],
    ["X", "1704445623"],
    ["x", "1704445623045"],
    ["MMM D, YYYY", "Jan 5, 2024"],
    ["[Today is] dddd", "Today is Friday"],
    ["YYYY-MM-DD[T]HH:mm:ss", "2024-01-05T09:07:03"],
    ["[YYYY] YYYY", "YYYY 2024"],
    ["-- / : , .", "-- / : , ."],
    ["[no tokens here?]", "no tokens here?"],
  ])("%s", (format, expected) => {
    expect(formatDate(T, format)).toBe(expected);
  });

  it.each<[number, string]>([
    [1, "1st"],
    [2, "2nd"],
    [3, "3rd"],
    [4, "4th"],
    [11, "11th"],
    [12, "12th"],
    [13, "13th"],
    [21, "21st"],
    [22, "22nd"],
    [23, "23rd"],
    [31, "31st"],
  ])("ordinal of day %i", (day, expected) => {
    expect(formatDate(Date.UTC(2024, 0, day), "Do")).toBe(expected);
  });

  it("12-hour clock at midnight and noon", () => {
    expect(formatDate(Date.UTC(2024, 0, 1, 0, 0), "h:mm A")).toBe("12:00 AM");
    expect(formatDate(Date.UTC(2024, 0, 1, 12, 0), "h:mm a")).toBe("12:00 pm");
    expect(formatDate(Date.UTC(2024, 0, 1, 23, 0), "hh A")).toBe("11 PM");
  });

  it.each<[string, number, string, string]>([
    ["Berlin in winter", Date.UTC(2024, 0, 15, 23, 30), "Europe/Berlin", "2024-01-16 00:30 +01:00"],
    ["Berlin in summer", Date.UTC(2024, 6, 15, 23, 30), "Europe/Berlin", "2024-07-16 01:30 +02:00"],
    ["Berlin before the spring-forward", Date.UTC(2024, 2, 31, 0, 59), "Europe/Berlin", "2024-03-31 01:59 +01:00"],
    ["Berlin after the spring-forward", Date.UTC(2024, 2, 31, 1, 0), "Europe/Berlin", "2024-03-31 03:00 +02:00"],
    ["New York", Date.UTC(2024, 0, 15, 3, 0), "America/New_York", "2024-01-14 22:00 -05:00"],
    ["Kolkata half hour", Date.UTC(2024, 0, 15, 0, 0), "Asia/Kolkata", "2024-01-15 05:30 +05:30"],
    ["Kathmandu quarter hour", Date.UTC(2024, 0, 15, 0, 0), "Asia/Kathmandu", "2024-01-15 05:45 +05:45"],
    ["UTC", Date.UTC(2024, 0, 15, 0, 0), "UTC", "2024-01-15 00:00 +00:00"],
  ])("time zone: %s", (_l, ms, tz, expected) => {
    expect(formatDate(ms, "YYYY-MM-DD HH:mm Z", tz)).toBe(expected);
  });

  it("weekday follows the zone's calendar day", () => {
    expect(formatDate(Date.UTC(2024, 0, 5, 23, 0), "dddd", "Asia/Tokyo")).toBe("Saturday");
  });

  it("dates before 1970", () => {
    expect(formatDate(Date.UTC(1969, 6, 20, 20, 17, 40, 5), "YYYY-MM-DD HH:mm:ss.SSS")).toBe("1969-07-20 20:17:40.005");
  });

  it("an unknown time zone is an error", () => {
    expect(() => formatDate(T, "YYYY", "Nowhere/Land")).toThrow(/unknown time zone/);
  });
});

describe("ISO-8601 parsing", () => {
  it.each<[string, string | null]>([
    ["2024-01-15", "2024-01-15T00:00:00.000Z"],
    ["2024-01-15T10:00:00Z", "2024-01-15T10:00:00.000Z"],
    ["2024-01-15T10:00:00.123456Z", "2024-01-15T10:00:00.123Z"],
    ["2024-01-15 10:00", "2024-01-15T10:00:00.000Z"],
    ["2024-01-15T10:00:00+02:00", "2024-01-15T08:00:00.000Z"],
    ["2024-01-15T10:00:00-0530", "2024-01-15T15:30:00.000Z"],
    ["2024-01-15T10:00:00+02", "2024-01-15T08:00:00.000Z"],
    ["  2024-01-15  ", "2024-01-15T00:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2023-02-29", null],
    ["2024-13-01", null],
    ["2024-01-15T24:00:00Z", null],
    ["2024-01-15T10:00:00+25:00", null],
    ["15.01.2024", null],
    ["Jan 15 2024", null],
    ["", null],
  ])("%j", (input, iso) => {
    const parsed = parseIsoString(input);
    expect(parsed ? new Date(parsed.ms).toISOString() : null).toBe(iso);
  });

  it("instants from numbers, dates and text", () => {
    expect(toInstant(0)).toEqual({ ms: 0, dateOnly: false });
    expect(toInstant(new Date(5))).toEqual({ ms: 5, dateOnly: false });
    expect(toInstant("2024-01-15")).toEqual({ ms: Date.UTC(2024, 0, 15), dateOnly: true });
    expect(toInstant(Number.NaN)).toBeNull();
    expect(toInstant(new Date("junk"))).toBeNull();
    expect(toInstant(true)).toBeNull();
  });
});

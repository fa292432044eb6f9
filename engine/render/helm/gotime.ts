/** time.Time for templates (`now`, `date`): UTC, formatted with Go's reference layout. */
import { GoStruct } from "./gofmt.ts";

export class GoTime extends GoStruct {
  constructor(readonly ms: number) {
    super(
      "time.Time",
      {},
      {
        Unix: () => BigInt(Math.floor(ms / 1000)),
        UnixNano: () => BigInt(ms) * 1_000_000n,
        Format: (layout: unknown) => formatGoTime(ms, String(layout)),
        UTC: () => new GoTime(ms),
        Year: () => BigInt(new Date(ms).getUTCFullYear()),
      },
      () => formatGoTime(ms, "2006-01-02 15:04:05.999999999 -0700 MST"),
    );
  }
}

export function goTime(ms: number): GoTime {
  return new GoTime(ms);
}

export function isGoTime(v: unknown): v is GoTime {
  return v instanceof GoTime;
}

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

const TOKEN =
  /2006|15|06|January|Jan|01|1|Monday|Mon|02|_2|2|03|3|04|4|05|5|PM|pm|MST|Z07:00|Z0700|Z07|-07:00|-0700|-07|[.,](0+|9+)/g;

/** time.Format in UTC. */
export function formatGoTime(ms: number, layout: string): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, "0");
  const h = d.getUTCHours();
  const frac = String(d.getUTCMilliseconds()).padStart(3, "0") + "000000";
  return layout.replace(TOKEN, (t) => {
    switch (t) {
      case "2006":
        return String(d.getUTCFullYear());
      case "06":
        return p2(d.getUTCFullYear() % 100);
      case "January":
        return MONTHS[d.getUTCMonth()]!;
      case "Jan":
        return MONTHS[d.getUTCMonth()]!.slice(0, 3);
      case "01":
        return p2(d.getUTCMonth() + 1);
      case "1":
        return String(d.getUTCMonth() + 1);
      case "Monday":
        return DAYS[d.getUTCDay()]!;
      case "Mon":
        return DAYS[d.getUTCDay()]!.slice(0, 3);
      case "02":
        return p2(d.getUTCDate());
      case "_2":
        return String(d.getUTCDate()).padStart(2, " ");
      case "2":
        return String(d.getUTCDate());
      case "15":
        return p2(h);
      case "03":
        return p2(h % 12 === 0 ? 12 : h % 12);
      case "3":
        return String(h % 12 === 0 ? 12 : h % 12);
      case "04":
        return p2(d.getUTCMinutes());
      case "4":
        return String(d.getUTCMinutes());
      case "05":
        return p2(d.getUTCSeconds());
      case "5":
        return String(d.getUTCSeconds());
      case "PM":
        return h >= 12 ? "PM" : "AM";
      case "pm":
        return h >= 12 ? "pm" : "am";
      case "MST":
        return "UTC";
      case "Z07:00":
      case "Z0700":
      case "Z07":
        return "Z";
      case "-07:00":
        return "+00:00";
      case "-0700":
        return "+0000";
      case "-07":
        return "+00";
      default: {
        // fractional seconds: .000 fixed, .999 trimmed
        const n = t.length - 1;
        const digits = frac.slice(0, n);
        if (t[1] === "0") return t[0] + digits;
        const trimmed = digits.replace(/0+$/, "");
        return trimmed === "" ? "" : t[0] + trimmed;
      }
    }
  });
}

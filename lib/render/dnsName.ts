/** DNS name checks (RFC 1035 / 1123 host names). Pure. */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** True when `name` is a valid host name / domain: dot-separated labels of 1–63 letters, digits and inner hyphens, ≤ 253 characters. */
export function isDnsName(name: string): boolean {
  if (typeof name !== "string" || name.length === 0 || name.length > 253) return false;
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  return trimmed.split(".").every((l) => LABEL.test(l));
}

/** True when `label` is one valid DNS label. */
export function isDnsLabel(label: string): boolean {
  return typeof label === "string" && LABEL.test(label);
}

const ONES = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/**
 * English number word usable as a DNS label: 1 → "one", 21 → "twenty-one", 105 → "one-hundred-five".
 * The seed names its load-balancer sites one…five; kantai extends that to any fleet size (1–999).
 */
export function numberWord(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new RangeError(`numberWord: ${n} is outside 0..999`);
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : "");
  return `${ONES[Math.floor(n / 100)]}-hundred` + (n % 100 ? `-${numberWord(n % 100)}` : "");
}

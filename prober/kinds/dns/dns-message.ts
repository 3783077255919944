import { isIP } from "node:net";

/**
 * The DNS wire format (RFC 1035 section 4) as far as a probe needs it: one question out, the whole answer
 * back with its rcode and three record sections. Records are also written in the presentation form of
 * github.com/miekg/dns `RR.String()` ("www.example.com.\t300\tIN\tA\t192.0.2.1"), which
 * blackbox_exporter's validate_*_rrs regexes are written against (prober/dns.go).
 */

/** Type mnemonics and numbers (IANA "Resource Record (RR) TYPEs"); others are written TYPE<n> (RFC 3597). */
export const DNS_TYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DNAME: 39, OPT: 41,
  DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, TLSA: 52, SVCB: 64, HTTPS: 65, SPF: 99, AXFR: 252, ANY: 255, CAA: 257,
};

export const DNS_CLASSES: Readonly<Record<string, number>> = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 };

/** Header rcodes (RFC 1035, RFC 2136); blackbox's valid_rcodes names them as miekg/dns does. */
export const DNS_RCODES: Readonly<Record<string, number>> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
};

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
  recursionDesired: boolean;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** The data in presentation form ("192.0.2.1", "10 mail.example.com.", "\"text\""). */
  data: string;
  /** SOA only: the zone's serial (blackbox's probe_dns_serial). */
  serial?: number;
  /** TXT only: the strings as sent, unescaped. */
  strings?: string[];
}

export interface DnsResponse {
  id: number;
  rcode: number;
  isTruncated: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export class DnsFormatError extends Error {
  override readonly name = "DnsFormatError";
}

/** The query message: header with one question, recursion desired as asked, no EDNS (as blackbox sends it). */
export function encodeQuery(id: number, question: DnsQuestion): Buffer {
  const name = encodeName(question.name);
  const message = Buffer.alloc(12 + name.length + 4);
  message.writeUInt16BE(id, 0);
  message.writeUInt16BE(question.recursionDesired ? 0x0100 : 0, 2);
  message.writeUInt16BE(1, 4);
  name.copy(message, 12);
  message.writeUInt16BE(question.type, 12 + name.length);
  message.writeUInt16BE(question.class, 14 + name.length);
  return message;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter((label) => label !== "");
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, "utf8");
    if (bytes.length > 63) throw new DnsFormatError(`the label ${JSON.stringify(label)} is longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const encoded = Buffer.concat(parts);
  if (encoded.length > 255) throw new DnsFormatError(`the name ${JSON.stringify(name)} is longer than 255 bytes`);
  return encoded;
}

export function decodeResponse(message: Buffer): DnsResponse {
  const reader = new MessageReader(message);
  const id = reader.u16();
  const flags = reader.u16();
  if ((flags & 0x8000) === 0) throw new DnsFormatError("the message is a query, not a response");
  const counts = [reader.u16(), reader.u16(), reader.u16(), reader.u16()] as const;
  for (let index = 0; index < counts[0]; index += 1) {
    reader.name();
    reader.skip(4);
  }
  const section = (count: number) => Array.from({ length: count }, () => reader.record());
  return { id, rcode: flags & 0x000f, isTruncated: (flags & 0x0200) !== 0, answers: section(counts[1]), authorities: section(counts[2]), additionals: section(counts[3]) };
}

/** miekg/dns `RR.String()`: owner, TTL, class, type and data separated by tabs. */
export function recordText(record: DnsRecord): string {
  return `${record.name}\t${record.ttl}\t${className(record.class)}\t${typeName(record.type)}\t${record.data}`;
}

export function typeName(type: number): string {
  return Object.entries(DNS_TYPES).find(([, number]) => number === type)?.[0] ?? `TYPE${type}`;
}

function className(dnsClass: number): string {
  return Object.entries(DNS_CLASSES).find(([, number]) => number === dnsClass)?.[0] ?? `CLASS${dnsClass}`;
}

export function rcodeName(rcode: number): string {
  return Object.entries(DNS_RCODES).find(([, number]) => number === rcode)?.[0] ?? `RCODE${rcode}`;
}

/** Compression pointers followed at most per name: more means a loop (RFC 1035 4.1.4 allows no more than the labels). */
const MAX_POINTER_HOPS = 127;

class MessageReader {
  private offset = 0;
  constructor(private readonly message: Buffer) {}

  u16(): number {
    this.need(2);
    const value = this.message.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.message.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.offset += bytes;
  }

  name(): string {
    const { name, end } = readName(this.message, this.offset);
    this.offset = end;
    return name;
  }

  record(): DnsRecord {
    const name = this.name();
    const type = this.u16();
    const dnsClass = this.u16();
    const ttl = this.u32();
    const length = this.u16();
    this.need(length);
    const start = this.offset;
    this.offset += length;
    const record: DnsRecord = { name, type, class: dnsClass, ttl, data: recordData(this.message, start, length, type) };
    if (type === DNS_TYPES.SOA) record.serial = soaSerial(this.message, start, start + length);
    if (type === DNS_TYPES.TXT) record.strings = characterStrings(this.message.subarray(start, start + length)).map((raw) => raw.toString("utf8"));
    return record;
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.message.length) throw new DnsFormatError(`the message ends early (${this.message.length} bytes)`);
  }
}

/** A possibly compressed name at `offset`, and where the field ends in the message. */
function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end: number | undefined;
  let length = 0;
  for (let hops = 0; ; ) {
    if (position >= message.length) throw new DnsFormatError("a name runs past the end of the message");
    const size = message[position] ?? 0;
    if (size === 0) {
      end ??= position + 1;
      break;
    }
    if ((size & 0xc0) === 0xc0) {
      if (position + 1 >= message.length) throw new DnsFormatError("a name pointer runs past the end of the message");
      hops += 1;
      if (hops > MAX_POINTER_HOPS) throw new DnsFormatError("a name's compression pointers loop");
      end ??= position + 2;
      position = ((size & 0x3f) << 8) | (message[position + 1] ?? 0);
      continue;
    }
    if ((size & 0xc0) !== 0) throw new DnsFormatError(`unknown label type 0x${size.toString(16)}`);
    if (position + 1 + size > message.length) throw new DnsFormatError("a label runs past the end of the message");
    length += size + 1;
    if (length > 255) throw new DnsFormatError("a name is longer than 255 bytes");
    labels.push(escapeLabel(message.subarray(position + 1, position + 1 + size)));
    position += 1 + size;
  }
  return { name: labels.length === 0 ? "." : `${labels.join(".")}.`, end };
}

/** Presentation escapes of miekg/dns: special characters with a backslash, others outside printable ASCII as \DDD. */
function escapeLabel(bytes: Buffer): string {
  let text = "";
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (".\"();@$\\ ".includes(char)) text += `\\${char}`;
    else if (byte < 0x21 || byte > 0x7e) text += `\\${String(byte).padStart(3, "0")}`;
    else text += char;
  }
  return text;
}

function recordData(message: Buffer, start: number, length: number, type: number): string {
  const end = start + length;
  const data = message.subarray(start, end);
  const nameAt = (offset: number) => readName(message, offset);
  switch (type) {
    case DNS_TYPES.A:
      if (length === 4) return [...data].join(".");
      break;
    case DNS_TYPES.AAAA:
      if (length === 16) return ipv6Text(data);
      break;
    case DNS_TYPES.NS:
    case DNS_TYPES.CNAME:
    case DNS_TYPES.PTR:
    case DNS_TYPES.DNAME:
      return nameAt(start).name;
    case DNS_TYPES.MX:
      if (length > 2) return `${data.readUInt16BE(0)} ${nameAt(start + 2).name}`;
      break;
    case DNS_TYPES.SRV:
      if (length > 6) return `${data.readUInt16BE(0)} ${data.readUInt16BE(2)} ${data.readUInt16BE(4)} ${nameAt(start + 6).name}`;
      break;
    case DNS_TYPES.TXT:
    case DNS_TYPES.SPF:
      return characterStrings(data).map((raw) => `"${escapeCharacterString(raw)}"`).join(" ");
    case DNS_TYPES.SOA:
      return soaText(message, start, end);
  }
  // RFC 3597's generic form, which miekg/dns also writes for data it cannot read.
  return `\\# ${length}${length > 0 ? ` ${data.toString("hex")}` : ""}`;
}

function soaFields(message: Buffer, start: number, end: number): { primary: string; mailbox: string; numbers: number[] } | undefined {
  const primary = readName(message, start);
  const mailbox = readName(message, primary.end);
  if (mailbox.end + 20 > end) return undefined;
  const numbers = [0, 4, 8, 12, 16].map((offset) => message.readUInt32BE(mailbox.end + offset));
  return { primary: primary.name, mailbox: mailbox.name, numbers };
}

function soaText(message: Buffer, start: number, end: number): string {
  const fields = soaFields(message, start, end);
  if (!fields) throw new DnsFormatError("an SOA record is too short");
  return `${fields.primary} ${fields.mailbox} ${fields.numbers.join(" ")}`;
}

function soaSerial(message: Buffer, start: number, end: number): number | undefined {
  return soaFields(message, start, end)?.numbers[0];
}

/** TXT's length-prefixed strings. */
function characterStrings(data: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = data[offset] ?? 0;
    if (offset + 1 + size > data.length) throw new DnsFormatError("a TXT string runs past its record");
    strings.push(data.subarray(offset + 1, offset + 1 + size));
    offset += 1 + size;
  }
  return strings;
}

/** `"` and `\` escaped, bytes outside printable ASCII as \DDD (miekg/dns sprintTxt). */
function escapeCharacterString(raw: Buffer): string {
  let text = "";
  for (const byte of raw) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) text += `\\${String(byte).padStart(3, "0")}`;
    else text += String.fromCharCode(byte);
  }
  return text;
}

/** Go's net.IP.String for 16 bytes: the longest run of two or more zero groups as "::", as RFC 5952 says. */
function ipv6Text(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2));
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) return `::ffff:${[...bytes.subarray(12)].join(".")}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let index = 0; index < 8; ) {
    if (groups[index] !== 0) {
      index += 1;
      continue;
    }
    let end = index;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - index > bestLength) [bestStart, bestLength] = [index, end - index];
    index = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  const text = `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
  return isIP(text) === 6 ? text : hex.join(":");
}

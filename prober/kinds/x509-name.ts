/**
 * A certificate's subject and issuer as Go's pkix.Name.String() writes them (crypto/x509/pkix), the form
 * of blackbox_exporter's probe_ssl_last_chain_info labels: the attributes Go parses into named fields in
 * its fixed order (SERIALNUMBER, CN, OU, O, POSTALCODE, STREET, L, ST, C; several values of one type
 * joined with "+"), then every other attribute as `<oid>=#<hex of its DER value>`, values escaped as
 * RFC 2253 asks (`,+"\<>;`, a leading `#`, leading and trailing spaces).
 */
export function goNamesOf(certificateDer: Uint8Array): { subject: string; issuer: string } {
  const certificate = children(readElement(certificateDer, 0));
  const tbs = children(certificate[0]!);
  // TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject.
  const fields = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs;
  return { issuer: goNameString(fields[2]!), subject: goNameString(fields[4]!) };
}

interface DerElement {
  tag: number;
  /** The whole element: tag, length and content. */
  bytes: Uint8Array;
  content: Uint8Array;
}

function readElement(bytes: Uint8Array, offset: number): DerElement {
  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    length = 0;
    for (let index = 0; index < lengthBytes; index += 1) length = length * 256 + bytes[offset + 2 + index]!;
    header += lengthBytes;
  }
  if (offset + header + length > bytes.length) throw new Error("truncated DER element");
  return { tag, bytes: bytes.subarray(offset, offset + header + length), content: bytes.subarray(offset + header, offset + header + length) };
}

function children(element: DerElement): DerElement[] {
  const result: DerElement[] = [];
  for (let offset = 0; offset < element.content.length; ) {
    const child = readElement(element.content, offset);
    result.push(child);
    offset += child.bytes.length;
  }
  return result;
}

interface Attribute {
  oid: string;
  /** The value as Go decodes a string type; undefined for other types. */
  text: string | undefined;
  der: Uint8Array;
}

/** The attributes Go's pkix.Name keeps in named fields, in the order ToRDNSequence appends them, and their short names. */
const NAMED = [
  ["2.5.4.6", "C"],
  ["2.5.4.8", "ST"],
  ["2.5.4.7", "L"],
  ["2.5.4.9", "STREET"],
  ["2.5.4.17", "POSTALCODE"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["2.5.4.3", "CN"],
  ["2.5.4.5", "SERIALNUMBER"],
] as const;
/** Go keeps one common name and one serial number, the last given; the others are lists. */
const SINGLE_VALUED = new Set(["2.5.4.3", "2.5.4.5"]);

function goNameString(name: DerElement): string {
  const attributes: Attribute[] = children(name).flatMap((set) => children(set).map(attributeOf));
  // pkix.Name.String: attributes without a named field first, each its own RDN, then ToRDNSequence's RDNs.
  const rdns: Array<Array<[type: string, value: string]>> = attributes.filter((attribute) => !NAMED.some(([oid]) => oid === attribute.oid)).map((attribute) => [[attribute.oid, `#${hex(goMarshal(attribute))}`]]);
  for (const [oid, short] of NAMED) {
    const values = attributes.filter((attribute) => attribute.oid === oid && attribute.text !== undefined).map((attribute) => attribute.text!);
    const kept = SINGLE_VALUED.has(oid) ? values.slice(-1).filter((value) => value !== "") : values;
    if (kept.length > 0) rdns.push(kept.map((value) => [short, escapeValue(value)]));
  }
  // RDNSequence.String writes the sequence last first.
  return rdns
    .reverse()
    .map((rdn) => rdn.map(([type, value]) => `${type}=${value}`).join("+"))
    .join(",");
}

function attributeOf(element: DerElement): Attribute {
  const [oid, value] = children(element);
  return { oid: oidString(oid!.content), text: decodeString(value!), der: value!.bytes };
}

function oidString(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else parts.push(value);
    value = 0;
  }
  return parts.join(".");
}

/** The string types Go's encoding/asn1 reads into a Go string. */
function decodeString(element: DerElement): string | undefined {
  switch (element.tag) {
    case 0x0c: // UTF8String
      return Buffer.from(element.content).toString("utf8");
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x14: // T61String, read byte for byte
      return Buffer.from(element.content).toString("latin1");
    case 0x1e: // BMPString, UTF-16 big-endian
      return Buffer.from(element.content).swap16().toString("utf16le");
    default:
      return undefined;
  }
}

/** Go's asn1.Marshal of the attribute's Go value: a string as PrintableString when it can be one, else UTF8String. */
function goMarshal(attribute: Attribute): Uint8Array {
  if (attribute.text === undefined) return attribute.der;
  const isPrintable = [...attribute.text].every((char) => /^[A-Za-z0-9 '()+,\-./:=?]$/.test(char));
  const content = Buffer.from(attribute.text, "utf8");
  const length = content.length < 0x80 ? [content.length] : lengthBytes(content.length);
  return Buffer.concat([Buffer.from([isPrintable ? 0x13 : 0x0c, ...length]), content]);
}

function lengthBytes(length: number): number[] {
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** RDNSequence.String's escaping: `,+"\<>;` anywhere, a space first or last, a `#` first. */
function escapeValue(value: string): string {
  const chars = [...value];
  return chars
    .map((char, index) => {
      const isEscaped = ',+"\\<>;'.includes(char) || (char === " " && (index === 0 || index === chars.length - 1)) || (char === "#" && index === 0);
      return isEscaped ? `\\${char}` : char;
    })
    .join("");
}

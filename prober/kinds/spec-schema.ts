import { isIP } from "node:net";
import { z } from "zod";
import { compileUserRegex, UserRegexError } from "../../core/regex/user-regex.ts";
import { InvalidProbeSpecError } from "./kind.ts";

/**
 * Validates a kind's spec with a zod schema and turns the first problem into an InvalidProbeSpecError
 * naming the field ("expectedStatus.1: ..."), which parseProbeCase prefixes with the case and file.
 */
export function parseSpecWith<Schema extends z.ZodType>(schema: Schema, raw: unknown): z.output<Schema> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "spec";
  if (issue?.code === "unrecognized_keys") throw new InvalidProbeSpecError(`${field}: unknown field(s) ${issue.keys.join(", ")}`);
  throw new InvalidProbeSpecError(`${field}: ${issue?.message ?? "invalid"}`);
}

/**
 * Compiles a user regex once at parse time so a typo is a definition error, not a failure at every run;
 * on the linear-time engine every user pattern uses (core/regex/user-regex.ts).
 */
export function compileRegex(pattern: string, field: string): RegExp {
  try {
    return compileUserRegex(pattern);
  } catch (error) {
    if (!(error instanceof UserRegexError)) throw error;
    throw new InvalidProbeSpecError(`${field}: ${error.message}`);
  }
}

/** "host:port" targets (tcp, grpc, tls); IPv6 literals are written "[::1]:443". */
export function parseHostPort(target: string, defaultPort?: number): { host: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(target);
  const match = bracketed ?? plain;
  if (!match?.[1]) return null;
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) return null;
  return { host: match[1], port };
}

/** blackbox's source_ip_address as a spec field: the local address a probe connects or asks from. */
export const sourceIpAddressField = z
  .string({ error: "expected an IP address" })
  .refine((value) => isIP(value) !== 0, { error: "expected an IP address such as 10.0.0.5" })
  .optional();

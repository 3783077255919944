import type { FastifyInstance } from "fastify";
import type { KuberhealthyReport, PendingReports } from "./pending-reports.ts";

/** Where checker pods report by default; KH_REPORTING_URL points here. */
export const KUBERHEALTHY_REPORT_PATH = "/api/v1/kuberhealthy/check";

/**
 * The receiving end of Kuberhealthy's external-check protocol (reference: probing-alerting-gating.md 1.2),
 * so existing checker images report to meshsight unchanged: POST, `kh-run-uuid` header, JSON body whose
 * keys match case-insensitively. Replies follow Kuberhealthy v3: 200 accepted, 400 bad or unknown run,
 * 405 not a POST, 410 late. Bodies are plain text like Kuberhealthy's, since checker clients only read
 * the status code (the Go client retries anything but 200 and 400).
 */
export function registerKuberhealthyReportRoute(app: FastifyInstance, registry: PendingReports, path: string = KUBERHEALTHY_REPORT_PATH): void {
  // Checker pods prove who they are with their run UUID (kh-run-uuid); the protocol has no bearer token.
  app.all(path, { config: { scope: "open" } }, async (request, reply) => {
    if (request.method !== "POST") return reply.code(405).header("allow", "POST").type("text/plain").send("reports are POSTed");
    const header = request.headers["kh-run-uuid"];
    const uuid = typeof header === "string" ? header.trim() : "";
    if (uuid === "") return reply.code(400).type("text/plain").send("missing kh-run-uuid header (send the KH_RUN_UUID this pod was given)");
    const report = parseReport(request.body);
    if (typeof report === "string") return reply.code(400).type("text/plain").send(report);
    const result = registry.deliver(uuid, report);
    if (result === "unknown") return reply.code(400).type("text/plain").send(`unknown run ${uuid}`);
    if (result === "late") return reply.code(410).type("text/plain").send(`run ${uuid} already ended (timed out or reported); this report is too late`);
    return reply.code(200).type("text/plain").send("OK");
  });
}

/** The report, or why it is refused (Kuberhealthy's rules: OK:true has no errors; OK:false names at least one). */
function parseReport(body: unknown): KuberhealthyReport | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return 'expected a JSON object {"OK": bool, "Errors": [...]}';
  const fields = new Map<string, unknown>(Object.entries(body as Record<string, unknown>).map(([key, value]) => [key.toLowerCase(), value]));
  const ok = fields.get("ok");
  const errors = fields.get("errors") ?? [];
  if (typeof ok !== "boolean") return 'field "OK" must be true or false';
  if (!Array.isArray(errors) || !errors.every((error): error is string => typeof error === "string")) return 'field "Errors" must be a list of strings';
  const messages: string[] = errors;
  if (ok && messages.length > 0) return 'OK is true but Errors is not empty';
  if (!ok && (messages.length === 0 || messages.some((message) => message.trim() === ""))) return "OK is false: Errors must name at least one non-blank error";
  // Bounded: a checker could send megabytes of errors; the first few say what matters.
  return { ok, errors: messages.slice(0, 20).map((message) => message.slice(0, 500)) };
}

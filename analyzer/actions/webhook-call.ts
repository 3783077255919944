/** POSTs the action as JSON; any answer other than 2xx fails the action with the receiver's words. */
export async function callWebhook(url: string, payload: Record<string, unknown>, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "user-agent": "meshsight-actions" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(timeoutMs) });
  const text = (await response.text()).slice(0, 200);
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}: ${text}`);
  return `${new URL(url).host} answered ${response.status}`;
}

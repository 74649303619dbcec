/*
 * What the requester copies from the DM into `jit-access connect`: the request id, a colon, and
 * Vault's single-use wrapping token. One string to copy; the CLI sends only the wrapping token to
 * Vault, and can name the request when that token turns out to be spent ("report REQ-… to
 * security") without any call to jit-access.
 */

const DELIVERY_TOKEN = /^(REQ-[0-9A-Z]{8}):([A-Za-z0-9._-]{8,256})$/;

export function deliveryToken(requestId: string, wrappedToken: string): string {
  return `${requestId}:${wrappedToken}`;
}

/** The parts of a delivery token; a bare wrapping token (pasted from elsewhere) has no request id. */
export function parseDeliveryToken(text: string): { requestId?: string; wrappedToken: string } | undefined {
  const trimmed = text.trim();
  const match = DELIVERY_TOKEN.exec(trimmed);
  if (match) return { requestId: match[1] ?? '', wrappedToken: match[2] ?? '' };
  return /^[A-Za-z0-9._-]{8,256}$/.test(trimmed) ? { wrappedToken: trimmed } : undefined;
}

/**
 * The reference API server's control routes (`/ref/v1/…`) as end-to-end tests call them over
 * HTTP: what the server really holds, never bridge's own index.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MessageMetadata } from "../src/api/types.ts";

/**
 * Calls `METHOD {apiUrl}/ref/v1/{path}` (with `body` as JSON when given) and returns the JSON
 * answer; fails the test when the server answers with an error status.
 */
export async function refControl<T>(
  apiUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${apiUrl}/ref/v1/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${JSON.stringify(json)}`);
  return json as T;
}

/** Every message of the user `email` on the reference server (`GET …/users/{email}/messages`). */
export async function refMessages(apiUrl: string, email: string): Promise<MessageMetadata[]> {
  return (await refControl<{ Messages: MessageMetadata[] }>(
    apiUrl,
    "GET",
    `users/${email}/messages`,
  )).Messages;
}

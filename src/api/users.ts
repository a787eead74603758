/**
 * `GET /core/v4/users` (go-proton-api `user.go`; proton-api.md §1.3).
 *
 * @module
 */
import { field } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { User } from "./types.ts";

/** The logged-in user, with its (locked) user keys. */
export async function getUser(client: ApiClient): Promise<User> {
  const path = "/core/v4/users";
  return field<User>(await client.get(path), "User", "GET", path);
}

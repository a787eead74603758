/**
 * `GET /core/v4/addresses` and `GET /core/v4/addresses/{id}` (go-proton-api `address.go`;
 * proton-api.md §1.3). The primary address is the one with the lowest `Order`.
 *
 * @module
 */
import { field, list, seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { Address } from "./types.ts";

/** All addresses of the user, sorted by `Order` (the first one is the primary address). */
export async function getAddresses(client: ApiClient): Promise<Address[]> {
  const addresses = list<Address>(await client.get("/core/v4/addresses"), "Addresses");
  // Array.prototype.sort is stable: equal Orders keep the API's order.
  return [...addresses].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0));
}

/** One address by ID. */
export async function getAddress(client: ApiClient, addressID: string): Promise<Address> {
  const path = `/core/v4/addresses/${seg(addressID)}`;
  return field<Address>(await client.get(path), "Address", "GET", path);
}

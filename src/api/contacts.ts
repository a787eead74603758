/**
 * Contacts, for send preferences (go-proton-api `contact.go`; proton-api.md §1.12).
 *
 * @module
 */
import { field, list, seg } from "./_reply.ts";
import type { ApiClient } from "./transport.ts";
import type { Contact, ContactEmail } from "./types.ts";

/** Largest page the client asks for (go-proton-api `maxPageSize`). */
export const MAX_CONTACT_PAGE_SIZE = 150;

/** One page of contact emails matching `email`. */
export interface ContactEmailsPage {
  ContactEmails: ContactEmail[];
  Total: number;
}

/** `GET /contacts/v4/emails?Email=&Page=&PageSize=` (page 0-based, size ≤ 150). */
export async function getContactEmails(
  client: ApiClient,
  email: string,
  page = 0,
  pageSize = MAX_CONTACT_PAGE_SIZE,
): Promise<ContactEmailsPage> {
  if (pageSize < 1 || pageSize > MAX_CONTACT_PAGE_SIZE) {
    throw new RangeError(`contact page size must be 1..${MAX_CONTACT_PAGE_SIZE}`);
  }
  const reply = await client.get("/contacts/v4/emails", {
    query: { Email: email, Page: page, PageSize: pageSize },
  });
  const items = list<ContactEmail>(reply, "ContactEmails");
  return {
    ContactEmails: items,
    Total: typeof reply.Total === "number" ? reply.Total : items.length,
  };
}

/** Every contact email matching `email`, all pages. */
export async function getAllContactEmails(
  client: ApiClient,
  email: string,
): Promise<ContactEmail[]> {
  const out: ContactEmail[] = [];
  for (let page = 0;; page++) {
    const res = await getContactEmails(client, email, page, MAX_CONTACT_PAGE_SIZE);
    out.push(...res.ContactEmails);
    if (res.ContactEmails.length < MAX_CONTACT_PAGE_SIZE || out.length >= res.Total) return out;
  }
}

/** `GET /contacts/v4/{id}` → the contact with its cards. */
export async function getContact(client: ApiClient, contactID: string): Promise<Contact> {
  const path = `/contacts/v4/${seg(contactID)}`;
  return field<Contact>(await client.get(path), "Contact", "GET", path);
}

/**
 * The capability list, computed in one place from the connection's state (RFC 3501 §7.2.1). Every
 * capability named here has a handler and a test (ARCHITECTURE invariant 6):
 *
 * | capability | where |
 * |---|---|
 * | IMAP4rev1 | every command in `src/imap/commands/` |
 * | STARTTLS, LOGINDISABLED | `starttls.ts`, `login.ts` (before TLS when plaintext auth is off) |
 * | AUTH=PLAIN, SASL-IR | `authenticate.ts` |
 * | LITERAL+ | the wire reader (`{n+}`) |
 * | ID, ENABLE, IDLE, NAMESPACE, UNSELECT, MOVE | the command files of those names |
 * | UIDPLUS | `copy.ts`, `move.ts`, `append.ts`, `expunge.ts` (UID EXPUNGE) |
 * | CHILDREN, SPECIAL-USE, LIST-EXTENDED, LIST-STATUS | `list.ts` |
 * | XLIST | `xlist.ts` (Gmail's special-folder LIST, for Outlook 2013/2016) |
 * | ESEARCH | `search.ts` (RETURN) |
 * | SORT, SORT=DISPLAY | `sort.ts` (UID SORT too; the keys in `src/mime/sort_fields.ts`, kept by the index) |
 * | CONDSTORE | `fetch.ts`, `store.ts`, `search.ts`, `select.ts`, `status.ts` |
 * | QRESYNC | `enable.ts`, `select.ts` (QRESYNC parameter, `[CLOSED]`), `fetch.ts` (VANISHED), the view's flush (`* VANISHED`) |
 * | QUOTA, QUOTA=RES-STORAGE | `getquota.ts`, `getquotaroot.ts`, `setquota.ts` (refused: no QUOTASET), `status.ts` (DELETED-STORAGE) |
 * | STATUS=SIZE | `status.ts` (SIZE, also in LIST's RETURN (STATUS …)) |
 * | APPENDLIMIT | the reader's `maxAppendSize`, `append.ts` |
 *
 * Before authentication only what a client needs to log in is listed (plus IMAP4rev1, LITERAL+,
 * ID, ENABLE-free basics), as RFC 3501 suggests; after login the full set.
 *
 * @module
 */

/** What the list depends on. */
export interface CapabilityState {
  authenticated: boolean;
  /** The connection is encrypted. */
  secure: boolean;
  /** STARTTLS is possible (a certificate is configured and the connection is not yet TLS). */
  canStartTls: boolean;
  /** Plaintext LOGIN/AUTHENTICATE is allowed on an unencrypted connection. */
  allowPlainAuth: boolean;
  /** APPENDLIMIT value in bytes. */
  appendLimit: number;
}

/** The capabilities to advertise, in the order they are written. */
export function capabilities(state: CapabilityState): string[] {
  const caps = ["IMAP4rev1"];
  // STARTTLS is a command of the not-authenticated state only (RFC 3501 §6.2.1).
  if (state.canStartTls && !state.authenticated) caps.push("STARTTLS");
  if (!state.authenticated) {
    if (state.secure || state.allowPlainAuth) caps.push("AUTH=PLAIN", "SASL-IR");
    else caps.push("LOGINDISABLED");
    caps.push("LITERAL+", "ID", "IDLE");
    return caps;
  }
  caps.push(
    "LITERAL+",
    "ID",
    "ENABLE",
    "IDLE",
    "NAMESPACE",
    "CHILDREN",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "XLIST",
    "ESEARCH",
    "SORT",
    "SORT=DISPLAY",
    "CONDSTORE",
    "QRESYNC",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "STATUS=SIZE",
    `APPENDLIMIT=${state.appendLimit}`,
  );
  return caps;
}

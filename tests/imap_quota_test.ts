/**
 * IMAP QUOTA (RFC 9208) end to end: python3 imaplib's `getquotaroot` / `getquota` against
 * `bridge serve` backed by the reference server report the account's storage as the API counts
 * it (`UsedSpace`, `MaxSpace`, in units of 1024 octets), and follow it: a delivered message raises
 * the usage within a poll of the event loop, a new plan limit (a `User` event) changes the limit.
 */
import assert from "node:assert/strict";
import { withClientFixture } from "./_client_fixture.ts";
import { eventually } from "./_eventually.ts";
import { IMAPLIB_HELPERS } from "./_imaplib_helpers.ts";
import { refControl } from "./_ref_control.ts";

/** GETQUOTAROOT INBOX and GETQUOTA "" as imaplib returns them, plus the capability list. */
const QUOTA = IMAPLIB_HELPERS + String.raw`
m = imaplib.IMAP4("127.0.0.1", A["port"])
m.login(A["user"], A["password"])
roots = ok(*m.getquotaroot("INBOX"))
quota = ok(*m.getquota('""'))
caps = s(ok(*m.capability())[0]).split()
m.logout()
print(json.dumps({"roots": [[s(x) for x in r] for r in roots], "quota": [s(x) for x in quota],
                  "caps": caps}))
`;

interface QuotaReply {
  roots: string[][];
  quota: string[];
  caps: string[];
}

/** `"" (STORAGE used limit)` → [used, limit]. */
function storage(line: string): [number, number] {
  const m = /^"" \(STORAGE (\d+) (\d+)\)$/.exec(line);
  assert.ok(m, `a STORAGE quota line: ${line}`);
  return [Number(m[1]), Number(m[2])];
}

Deno.test("serve: GETQUOTAROOT / GETQUOTA report the API's storage and follow its events", async () => {
  await withClientFixture("bridge-quota-", "quota@example.test", 5, async (f) => {
    const ask = () => f.imaplib<QuotaReply>(QUOTA);
    /** Sets the plan limit through the controls; the API's user as it then is. */
    const setLimit = async (bytes: number) =>
      (await refControl<{ User: { UsedSpace: number; MaxSpace: number } }>(
        f.server.url,
        "PUT",
        `users/${encodeURIComponent(f.email)}/max-space`,
        { MaxSpace: bytes },
      )).User;
    await f.start();

    const first = await ask();
    assert.ok(first.caps.includes("QUOTA") && first.caps.includes("QUOTA=RES-STORAGE"));
    // imaplib gives the QUOTAROOT line and the QUOTA line of GETQUOTAROOT.
    assert.deepEqual(first.roots[0], ['"INBOX" ""']);
    const [used, limit] = storage(first.quota[0]);
    assert.deepEqual(storage(first.roots[1][0]), [used, limit]);
    assert.ok(used > 0, "the seeded messages take space");
    assert.equal(limit, 1024 * 1024, "the reference server's default plan: 1 GiB");

    // A new plan limit arrives as a User event (with the usage, which has not changed).
    const api = await setLimit(2 * 1024 ** 3);
    assert.equal(used, Math.ceil(api.UsedSpace / 1024), "the usage is the API's");
    await eventually(
      async () => {
        assert.deepEqual(storage((await ask()).quota[0]), [used, 2 * 1024 * 1024]);
      },
      20_000,
      300,
    );

    // New mail: the API's usage grows and its event (UsedSpace alone) tells bridge within a poll.
    await f.deliver("quota grows");
    let grown = 0;
    await eventually(
      async () => {
        grown = storage((await ask()).quota[0])[0];
        assert.ok(grown > used, `${grown} > ${used}`);
      },
      20_000,
      300,
    );
    const after = await setLimit(3 * 1024 ** 3);
    assert.equal(grown, Math.ceil(after.UsedSpace / 1024), "the usage the delivery event gave");
    await f.stop();
  });
});

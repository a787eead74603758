import assert from "node:assert/strict";
import { MessageFlag } from "../../store/mod.ts";
import { flagList } from "./flags.ts";

Deno.test("flagList: system flags in order, Forwarded twice, keywords after", () => {
  assert.deepEqual(
    flagList(MessageFlag.Seen | MessageFlag.Flagged | MessageFlag.Forwarded, ["$Junk"], true),
    ["\\Seen", "\\Flagged", "\\Deleted", "$Forwarded", "Forwarded", "$Junk"],
  );
  assert.deepEqual(flagList(0, [], false), []);
  assert.deepEqual(flagList(MessageFlag.Answered | MessageFlag.Draft, [], false), [
    "\\Answered",
    "\\Draft",
  ]);
});

/**
 * Logs in to a Proton-API server (normally a running `bridge api-server`), pages all message
 * metadata newest to oldest, fetches and decrypts every message body and attachment, and prints
 * counts. Exits 1 when anything failed to fetch or decrypt, 2 on bad usage or a failed login.
 *
 * ```sh
 * deno run --allow-net --allow-read scripts/api_dump.ts --url http://127.0.0.1:8080 \
 *   --user alice@example.test --password secret --trust-server-modulus
 * ```
 *
 * Options: `--url URL`, `--user EMAIL`, `--password PASS`, `--mailbox-password P` (two-password
 * accounts), `--totp CODE` (accounts with TOTP), `--trust-modulus-key FILE` (armored public key
 * allowed to sign the SRP modulus; repeatable) or `--trust-server-modulus` (fetch the reference
 * server's key from `GET /ref/v1/info` and trust it — only for a server you run yourself),
 * `--concurrency N` (default 8), `--json` (one JSON line instead of text).
 *
 * Never prints passwords, tokens or message contents.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  ApiClient,
  ApiError,
  bridgeAppVersion,
  getAttachment,
  getLabels,
  getMessage,
  iterateMetadataNewestFirst,
  login,
  logout,
  submitTotp,
  unlock,
} from "../src/api/mod.ts";
import { decryptAttachment, decryptMessage, fromBase64 } from "../src/crypto/mod.ts";
import { VERSION } from "../src/cli/version.ts";

const USAGE =
  `Usage: deno run --allow-net --allow-read scripts/api_dump.ts --url URL --user EMAIL \\
    --password PASS [--mailbox-password P] [--totp CODE] \\
    (--trust-modulus-key FILE ... | --trust-server-modulus) [--concurrency N] [--json]`;

/** Counts the dump reports. */
interface Summary {
  addresses: number;
  labels: number;
  messages: number;
  attachments: number;
  bytes: number;
  failures: number;
  seconds: number;
}

function fail(message: string, code = 2): never {
  console.error(`api_dump: ${message}`);
  Deno.exit(code);
}

function describe(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

async function trustedKeys(url: string, files: string[], fromServer: boolean): Promise<string[]> {
  const keys: string[] = [];
  for (const file of files) {
    try {
      keys.push(await Deno.readTextFile(file));
    } catch (e) {
      fail(`cannot read modulus key ${file}: ${describe(e)}`);
    }
  }
  if (fromServer) {
    console.error(
      "api_dump: warning: trusting the SRP modulus key the server itself announces " +
        "(GET /ref/v1/info); only do this with a reference server you run yourself",
    );
    let info: { ModulusPublicKey?: unknown };
    try {
      const res = await fetch(new URL("ref/v1/info", url.endsWith("/") ? url : url + "/"));
      info = await res.json();
    } catch (e) {
      fail(`cannot fetch ${url}/ref/v1/info: ${describe(e)}`);
    }
    if (typeof info.ModulusPublicKey !== "string") fail("no ModulusPublicKey in /ref/v1/info");
    keys.push(info.ModulusPublicKey);
  }
  if (keys.length === 0) fail("give --trust-modulus-key FILE or --trust-server-modulus");
  return keys;
}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        url: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
        "mailbox-password": { type: "string" },
        totp: { type: "string" },
        "trust-modulus-key": { type: "string", multiple: true },
        "trust-server-modulus": { type: "boolean" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  } catch (e) {
    fail(`${describe(e)}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.url || !v.user || v.password === undefined) {
    fail(`--url, --user, --password required\n${USAGE}`);
  }
  const concurrency = Number(v.concurrency ?? "8");
  if (!Number.isInteger(concurrency) || concurrency < 1) fail("--concurrency must be ≥ 1");

  const started = performance.now();
  const trusted = await trustedKeys(
    v.url,
    v["trust-modulus-key"] ?? [],
    !!v["trust-server-modulus"],
  );
  const client = new ApiClient({ baseURL: v.url, appVersion: bridgeAppVersion(VERSION) });

  let account;
  try {
    const res = await login(client, {
      username: v.user,
      password: v.password,
      trustedModulusKeys: trusted,
    });
    if (res.twoFactorRequired) {
      if (!v.totp) fail("the account needs a TOTP code: pass --totp CODE");
      await submitTotp(client, v.totp);
    }
    let mailboxPassword = v.password;
    if (res.passwordMode === 2) {
      if (v["mailbox-password"] === undefined) {
        fail("two-password account: pass --mailbox-password");
      }
      mailboxPassword = v["mailbox-password"];
    }
    account = await unlock(client, mailboxPassword);
  } catch (e) {
    fail(`login failed: ${describe(e)}`);
  }

  const summary: Summary = {
    addresses: account.addresses.length,
    labels: 0,
    messages: 0,
    attachments: 0,
    bytes: 0,
    failures: 0,
    seconds: 0,
  };
  for (const [id, e] of account.addressKeyErrors) {
    console.error(`api_dump: address ${id}: keys not unlocked: ${describe(e)}`);
  }

  try {
    summary.labels = (await getLabels(client)).length;
  } catch (e) {
    summary.failures++;
    console.error(`api_dump: labels: ${describe(e)}`);
  }

  // Metadata first (the walk the sync does), then bodies and attachments in parallel.
  const ids: string[] = [];
  try {
    for await (const page of iterateMetadataNewestFirst(client)) ids.push(...page.map((m) => m.ID));
  } catch (e) {
    summary.failures++;
    console.error(`api_dump: metadata paging: ${describe(e)}`);
  }

  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        const msg = await getMessage(client, id);
        const ring = account.addressKeys.get(msg.AddressID);
        if (!ring) throw new Error(`no unlocked keys for address ${msg.AddressID}`);
        const keys = [...ring.keys];
        const body = await decryptMessage(msg.Body, keys);
        summary.messages++;
        summary.bytes += body.data.length;
        for (const att of msg.Attachments ?? []) {
          try {
            const data = await getAttachment(client, att.ID);
            const plain = await decryptAttachment(fromBase64(att.KeyPackets), data, keys);
            summary.attachments++;
            summary.bytes += plain.length;
          } catch (e) {
            summary.failures++;
            console.error(`api_dump: attachment ${att.ID} of message ${id}: ${describe(e)}`);
          }
        }
      } catch (e) {
        summary.failures++;
        console.error(`api_dump: message ${id}: ${describe(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await logout(client).catch(() => {});
  summary.seconds = Math.round((performance.now() - started) / 100) / 10;

  if (v.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`addresses:   ${summary.addresses}`);
    console.log(`labels:      ${summary.labels}`);
    console.log(`messages:    ${summary.messages} (of ${ids.length} listed)`);
    console.log(`attachments: ${summary.attachments}`);
    console.log(`bytes:       ${summary.bytes} (decrypted)`);
    console.log(`failures:    ${summary.failures}`);
    console.log(`seconds:     ${summary.seconds}`);
  }
  return summary.failures > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));

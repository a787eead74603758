/**
 * The config schema as data: every section and key `bridge` reads from its TOML file, with its
 * type, default, allowed range and meaning. This is the one place keys are declared; the loader
 * (`load.ts`), the commented default file (`init.ts`) and the reference in `docs/CONFIG.md`
 * (`docs.ts`) are all generated from it, and the {@link Config} type is derived from it.
 *
 * @module
 */
import { isLoopback } from "../tls/loopback.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { defaultDataDir, type Env, type Os } from "./paths.ts";

/** The value types a key can have. `duration` is seconds: an integer, or a string like `"5m"`. */
export type KeyType = "string" | "path" | "int" | "bool" | "enum" | "string[]" | "duration";

/** A config value after parsing. Durations are whole seconds. */
export type Value = string | number | boolean | readonly string[];

/** What defaults may depend on: the platform, the environment and the program's version. */
export interface DefaultContext {
  os: Os;
  env: Env;
  /** The program version reported in `api.app_version`. */
  version: string;
}

/** One key of a section. */
export interface KeySpec {
  type: KeyType;
  /** The default value, or how to compute it for a platform. */
  default: Value | ((ctx: DefaultContext) => Value);
  /** How the default is described when it depends on the platform (Markdown code spans allowed). */
  defaultText?: string;
  /** Allowed values of an `enum` key. */
  values?: readonly string[];
  /** Inclusive lower bound of an `int` or `duration` key. */
  min?: number;
  /** Inclusive upper bound of an `int` or `duration` key. */
  max?: number;
  /** Extra check on a parsed value; returns what is wrong ("must be …") or undefined. */
  check?: (value: Value) => string | undefined;
  /** What the key does, in one or two sentences. */
  meaning: string;
}

/** One `[section]` of the file. */
export interface SectionSpec {
  /** What the section configures. */
  meaning: string;
  /**
   * Set for a table of tables keyed by a name (`[accounts."alice@example.com"]`); the value says
   * what the name is.
   */
  keyed?: string;
  keys: Readonly<Record<string, KeySpec>>;
}

const PORT = { min: 1, max: 65535 } as const;
const SECURITY = ["starttls", "ssl", "none"] as const;

/** The default `x-pm-appversion`: `<os>-bridge@<version>`, `os` being `linux`, `macos` or `windows`. */
export function defaultAppVersion(os: Os, version: string): string {
  const apiOs = os === "darwin" ? "macos" : os === "windows" ? "windows" : "linux";
  return `${apiOs}-bridge@${version}`;
}

/** The program version from deno.json, the default for {@link DefaultContext.version}. */
export const PROGRAM_VERSION: string = denoJson.version;

function nonEmpty(value: Value): string | undefined {
  return value === "" ? "must not be empty" : undefined;
}

function httpUrl(value: Value): string | undefined {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return "must be an https:// URL (http:// only on loopback)";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol !== "http:") return "must be an https:// URL (http:// only on loopback)";
  // Passwords' SRP proofs, tokens and keys would cross the network in clear.
  if (isLoopback(url.hostname)) return undefined;
  return "must be https:// for a server that is not on this machine (http:// would send tokens " +
    "and keys in clear); http:// is for 127.0.0.1, ::1 and localhost";
}

function appVersion(value: Value): string | undefined {
  return /^[a-z]+-[a-z-]+@\d+\.\d+\.\d+\S*$/i.test(String(value))
    ? undefined
    : 'must look like "<os>-bridge@<version>", e.g. "linux-bridge@3.0.0"';
}

/** Every section and key of the config file. */
export const SCHEMA = {
  imap: {
    meaning: "The IMAP server mail clients connect to.",
    keys: {
      host: {
        type: "string",
        default: "127.0.0.1",
        check: nonEmpty,
        meaning:
          "Address the IMAP server listens on. Anything other than loopback (127.0.0.1, ::1, " +
          "localhost) needs starttls or ssl unless server.allow_non_loopback is true.",
      },
      port: { type: "int", default: 1143, ...PORT, meaning: "TCP port of the IMAP server." },
      security: {
        type: "enum",
        values: SECURITY,
        default: "starttls",
        meaning:
          "starttls: plain connection upgraded with STARTTLS; ssl: TLS from the first byte " +
          "(implicit TLS); none: no TLS at all (loopback only, unless server.allow_non_loopback).",
      },
    },
  },
  smtp: {
    meaning: "The SMTP submission server mail clients send through.",
    keys: {
      host: {
        type: "string",
        default: "127.0.0.1",
        check: nonEmpty,
        meaning: "Address the SMTP server listens on; the same loopback rule as imap.host applies.",
      },
      port: { type: "int", default: 1025, ...PORT, meaning: "TCP port of the SMTP server." },
      security: {
        type: "enum",
        values: SECURITY,
        default: "starttls",
        meaning: "TLS mode of the SMTP server, as for imap.security.",
      },
      accept_undeclared_8bit: {
        type: "bool",
        default: true,
        meaning: "Accept a message with 8-bit text whose MAIL FROM did not declare " +
          "BODY=8BITMIME (Python's smtplib.send_message and many scripts send such mail; " +
          "Postfix accepts it too); false refuses it with 554 5.6.0, as RFC 6152 allows.",
      },
    },
  },
  api: {
    meaning: "The Proton Mail HTTP API the bridge talks to.",
    keys: {
      url: {
        type: "string",
        default: "https://mail-api.proton.me",
        check: httpUrl,
        meaning:
          "Base URL of the API (point it at `bridge api-server` to use the reference server). " +
          "https:// except on loopback (127.0.0.1, ::1, localhost), where http:// is accepted.",
      },
      app_version: {
        type: "string",
        default: (ctx: DefaultContext) => defaultAppVersion(ctx.os, ctx.version),
        defaultText: '`"<os>-bridge@<version>"`, os being `linux`, `macos` or `windows`',
        check: appVersion,
        meaning: "Value of the x-pm-appversion header sent with every request; the API refuses " +
          "requests without a recognised one.",
      },
      trusted_modulus_keys: {
        type: "string[]",
        default: [],
        meaning: "Extra OpenPGP public keys trusted to sign SRP moduli, each a file path or an " +
          "armored key. Proton's published modulus key is always trusted; add the reference " +
          "server's key here to log in against a server of your own.",
      },
      timeout_seconds: {
        type: "duration",
        default: 30,
        min: 1,
        max: 600,
        meaning: "How long one API request may take before it is abandoned and retried.",
      },
    },
  },
  paths: {
    meaning: "Where bridge keeps its files. `~` is expanded; a relative path in the file is " +
      "relative to the file's folder.",
    keys: {
      data_dir: {
        type: "path",
        default: (ctx: DefaultContext) => defaultDataDir(ctx.os, ctx.env),
        defaultText: "`$XDG_DATA_HOME/bridge` (`~/.local/share/bridge`); macOS " +
          "`~/Library/Application Support/bridge`; Windows `%LOCALAPPDATA%\\bridge`",
        check: nonEmpty,
        meaning: "Vault, local message index, TLS certificate, lock and control files.",
      },
      cache_dir: {
        type: "path",
        default: "",
        defaultText:
          '`""`: each account\'s cache is the `cache` folder of its directory in the data ' +
          "directory (`<data_dir>/accounts/<user ID>/cache`)",
        meaning: "Encrypted cache of message bodies, one folder per account (`<cache_dir>/<user " +
          "ID>`); safe to delete (it is rebuilt on demand). A UID never shows other bytes than it " +
          "did: a message whose rebuilt body differs from the one it was indexed with (a newer " +
          "bridge builds some messages differently) is expunged and comes back under a new UID, " +
          "so mail clients download it again. The platform's cache folder is " +
          "`$XDG_CACHE_HOME/bridge` (`~/.cache/bridge`), macOS `~/Library/Caches/bridge`, Windows " +
          "`%LOCALAPPDATA%\\bridge\\cache`.",
      },
    },
  },
  sync: {
    meaning: "The first full download of an account.",
    keys: {
      workers: {
        type: "int",
        default: 2,
        min: 1,
        max: 32,
        meaning: "Accounts synced at the same time.",
      },
      memory_budget_mb: {
        type: "int",
        default: 256,
        min: 32,
        max: 4096,
        meaning: "Upper bound, in MiB, on message data held in memory by the sync pipeline.",
      },
      memory_soft_limit_mb: {
        type: "int",
        default: 240,
        min: 0,
        max: 65536,
        meaning: "When the process's resident memory is above this many MiB, a full garbage " +
          "collection is run: after each batch of a first sync (at most once a second) and " +
          "every 5 s at other times (backing off while one does not help). Needs V8's " +
          "`--expose-gc` flag, which `deno task demo`, the compiled binary and the bundle " +
          "launcher set; 0 turns it off. On Linux, freed memory goes back to the system only " +
          "when the process starts with `MALLOC_MMAP_THRESHOLD_=4194304` in its environment, " +
          "which `deno task demo` and the bundle launcher set (the README says how for the " +
          "compiled binary).",
      },
      download_parallelism: {
        type: "int",
        default: 16,
        min: 1,
        max: 32,
        meaning: "Message downloads in flight at once per account.",
      },
    },
  },
  events: {
    meaning: "Polling the API's event feed for changes made elsewhere.",
    keys: {
      poll_interval_seconds: {
        type: "duration",
        default: 20,
        min: 1,
        max: 3600,
        meaning: "Time between two polls of the event feed.",
      },
      jitter_seconds: {
        type: "duration",
        default: 10,
        min: 0,
        max: 3600,
        meaning: "Random extra delay, up to this much, added to each poll so that many clients " +
          "do not poll in step.",
      },
    },
  },
  mailboxes: {
    meaning: "Which mailboxes IMAP clients see.",
    keys: {
      show_all_mail: {
        type: "bool",
        default: true,
        meaning: 'Show the "All Mail" mailbox (every message once, whatever its labels).',
      },
    },
  },
  smtp_send: {
    meaning: "Sending mail through SMTP.",
    keys: {
      duplicate_suppression: {
        type: "bool",
        default: true,
        meaning: "Recognise a message a client submits twice (same Message-ID and content, e.g. " +
          "after a timeout) and send it only once. A message without a Message-ID is always sent.",
      },
      duplicate_window_seconds: {
        type: "duration",
        default: 1800,
        min: 1,
        max: 86400,
        meaning: "How long a sent message is remembered for duplicate suppression.",
      },
    },
  },
  log: {
    meaning: "Diagnostic logging.",
    keys: {
      level: {
        type: "enum",
        values: ["error", "warn", "info", "debug"],
        default: "info",
        meaning: "Least severe level written; debug may include mailbox names but never " +
          "passwords or message contents.",
      },
      format: {
        type: "enum",
        values: ["text", "json"],
        default: "text",
        meaning: "text: one readable line per entry; json: one JSON object per line.",
      },
    },
  },
  server: {
    meaning: "Safety switches for the listeners.",
    keys: {
      allow_non_loopback: {
        type: "bool",
        default: false,
        meaning: "Allow imap.host or smtp.host to be a non-loopback address while its security " +
          "is none, which sends passwords in clear over the network. Leave false.",
      },
      require_tls_login: {
        type: "bool",
        default: false,
        meaning: "Refuse IMAP LOGIN/AUTHENTICATE and SMTP AUTH before TLS on loopback too (with " +
          "starttls, clients must send STARTTLS first; IMAP says LOGINDISABLED). Off by default, " +
          "as in the official bridge: loopback traffic does not leave the machine, and some " +
          "clients cannot use a self-signed certificate. On other addresses TLS is always " +
          "required before login.",
      },
    },
  },
  accounts: {
    meaning: 'Per-account settings, one table per account, e.g. `[accounts."alice@proton.me"]`.',
    keyed: "account email address",
    keys: {
      address_mode: {
        type: "enum",
        values: ["combined", "split"],
        default: "combined",
        meaning: "combined: every enabled address of the account logs in to IMAP (with the " +
          "account's bridge password) and sees the mail of all its addresses. split: each " +
          "enabled address is its own IMAP login (user name: that address, same password) and " +
          "sees only the messages of that address: the same mailboxes, with the same UIDs and " +
          "UIDVALIDITY as in combined mode, so switching needs no resync; APPEND imports and " +
          "drafts with the login's address; SMTP sends only from the address logged in with. " +
          "When the table is absent, the mode `bridge mode EMAIL combined|split` stored in the " +
          "vault applies. A running `bridge serve` applies a change on SIGHUP; sessions already " +
          "logged in keep their view until they log in again.",
      },
    },
  },
} as const satisfies Record<string, SectionSpec>;

/** The schema's type. */
export type Schema = typeof SCHEMA;

/** Name of a section. */
export type SectionName = keyof Schema;

/** The parsed type of one key. */
export type KeyValue<K> = K extends { type: "enum"; values: readonly (infer V)[] } ? V
  : K extends { type: "int" | "duration" } ? number
  : K extends { type: "bool" } ? boolean
  : K extends { type: "string[]" } ? string[]
  : string;

/** The parsed values of one section's keys. */
export type SectionValues<S extends SectionName> = {
  -readonly [K in keyof Schema[S]["keys"]]: KeyValue<Schema[S]["keys"][K]>;
};

/** The effective configuration: every key of every section, with its type. */
export type Config = {
  -readonly [S in SectionName]: Schema[S] extends { keyed: string }
    ? Record<string, SectionValues<S>>
    : SectionValues<S>;
};

/** Settings of one account (`[accounts."<email>"]`). */
export type AccountSettings = SectionValues<"accounts">;

/** The sections in file order, untyped, for code that walks the schema. */
export function sections(): [string, SectionSpec][] {
  return Object.entries(SCHEMA);
}

/** The section spec named `name`, if there is one. */
export function sectionSpec(name: string): SectionSpec | undefined {
  return Object.hasOwn(SCHEMA, name) ? (SCHEMA as Record<string, SectionSpec>)[name] : undefined;
}

/** The environment variable that sets `section.key`: `BRIDGE_<SECTION>_<KEY>`, upper-cased. */
export function envVarName(section: string, key: string): string {
  return `BRIDGE_${section}_${key}`.toUpperCase();
}

/** The default of one key for a platform. */
export function defaultValue(spec: KeySpec, ctx: DefaultContext): Value {
  const d = spec.default;
  return typeof d === "function" ? d(ctx) : Array.isArray(d) ? [...d] : d;
}

/** Settings of an account that has no table of its own: every key at its default. */
export function defaultAccountSettings(): AccountSettings {
  const out: Record<string, Value> = {};
  for (const [key, spec] of Object.entries(SCHEMA.accounts.keys)) {
    out[key] = spec.default;
  }
  return out as AccountSettings;
}

/** Settings for `email`: its `[accounts."<email>"]` table, or the defaults. */
export function accountSettings(config: Config, email: string): AccountSettings {
  return Object.hasOwn(config.accounts, email) ? config.accounts[email] : defaultAccountSettings();
}

/** The defaults of every key for a platform (no accounts). */
export function defaultConfig(ctx: DefaultContext): Config {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of sections()) {
    if (spec.keyed) {
      out[name] = {};
      continue;
    }
    const values: Record<string, Value> = {};
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      values[key] = defaultValue(keySpec, ctx);
    }
    out[name] = values;
  }
  return out as Config;
}

/** How a key's type and range read in messages and docs, e.g. "an integer from 1 to 65535". */
export function describeType(spec: KeySpec): string {
  switch (spec.type) {
    case "string":
      return "a string";
    case "path":
      return "a path (string)";
    case "bool":
      return "a boolean (true or false)";
    case "string[]":
      return "an array of strings";
    case "enum":
      return `one of ${(spec.values ?? []).join(", ")}`;
    case "int":
      return `an integer${rangeText(spec)}`;
    case "duration":
      return `a duration in seconds${rangeText(spec)} (an integer, or a string like "90s", ` +
        `"5m", "1h30m")`;
  }
}

function rangeText(spec: KeySpec): string {
  if (spec.min !== undefined && spec.max !== undefined) {
    return ` from ${spec.min} to ${spec.max}`;
  }
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return "";
}

/**
 * `bridge cert export|import`: hands out the IMAP/SMTP TLS certificate (to trust it in a mail
 * client), or replaces it with one of your own.
 *
 * ```sh
 * bridge cert export [--data-dir D] [--config F] [--out F]
 * bridge cert import --cert F --key F [--data-dir D] [--config F]
 * ```
 *
 * The certificate lives in the data directory as `cert.pem` and `key.pem` (see `src/tls`). Export
 * never prints the private key. Exit code 0 on success, 1 on an unusable certificate or file.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { parseCommandArgs, UsageError } from "./command.ts";
import { resolveDataDir } from "./vault_command.ts";
import { ConfigError } from "../config/mod.ts";
import { CertificateError, exportCert, importCert, loadOrCreate } from "../tls/mod.ts";

const HELP = `Usage: bridge cert <export|import> [options]

Commands:
  export   print the TLS certificate of the IMAP/SMTP servers as PEM (never the key), e.g. to
           trust it in a mail client; a certificate is generated first if there is none
  import   use your own certificate and private key (PEM files) instead of the generated one

Options:
  --data-dir D   the data directory (default: paths.data_dir from the config)
  --config F     the config file to read paths.data_dir from
  --out F        export: write the certificate to F instead of standard output
  --cert F       import: the certificate (PEM; the server certificate first if it is a chain)
  --key F        import: its private key (unencrypted PEM: PKCS #8, PKCS #1 or SEC1)
  -h, --help     show this help

An imported certificate is not renewed automatically. To go back to a generated one, delete
cert.pem, key.pem and cert.imported in the data directory. Restart \`bridge serve\` after an import.`;

interface Flags {
  sub: "export" | "import";
  dataDir?: string;
  config?: string;
  out?: string;
  cert?: string;
  key?: string;
  help: boolean;
}

function parseFlags(args: string[]): Flags {
  const parsed = parseCommandArgs(args, {
    "data-dir": { type: "string" },
    config: { type: "string" },
    out: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  const { values, positionals } = parsed;
  const help = values.help ?? false;
  const [sub, ...extra] = positionals;
  if (!help) {
    if (sub === undefined) throw new UsageError("missing subcommand: export or import");
    if (sub !== "export" && sub !== "import") {
      throw new UsageError(`unknown subcommand '${sub}': use export or import`);
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === "export" && (values.cert !== undefined || values.key !== undefined)) {
      throw new UsageError("--cert and --key apply to import only");
    }
    if (sub === "import") {
      if (values.out !== undefined) throw new UsageError("--out applies to export only");
      if (!values.cert) throw new UsageError("import needs --cert FILE");
      if (!values.key) throw new UsageError("import needs --key FILE");
    }
    for (const name of ["data-dir", "out"] as const) {
      if (values[name] === "") throw new UsageError(`--${name} must not be empty`);
    }
  }
  return {
    sub: sub as Flags["sub"],
    dataDir: values["data-dir"],
    config: values.config,
    out: values.out,
    cert: values.cert,
    key: values.key,
    help,
  };
}

async function run(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  const name = `bridge cert ${flags.sub}`;
  try {
    const dataDir = await resolveDataDir(flags.dataDir, flags.config);
    return flags.sub === "export" ? await exportCommand(dataDir, flags) : await importCommand(
      dataDir,
      flags,
    );
  } catch (err) {
    if (err instanceof ConfigError || err instanceof CertificateError) {
      console.error(`${name}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function exportCommand(dataDir: string, flags: Flags): Promise<number> {
  const info = await loadOrCreate(dataDir);
  if (info.action === "created" || info.action === "renewed") {
    console.error(
      `Generated a new certificate in ${dataDir}${info.note ? ` (${info.note})` : ""}.`,
    );
  } else if (info.note) {
    console.error(`Warning: ${info.note}`);
  }
  if (flags.out === undefined) {
    await writeAll(Deno.stdout, info.certPem);
    return 0;
  }
  await exportCert(dataDir, flags.out);
  console.log(`Wrote the certificate to ${flags.out}`);
  console.log(`SHA-256 fingerprint: ${info.fingerprint}`);
  return 0;
}

async function importCommand(dataDir: string, flags: Flags): Promise<number> {
  const info = await importCert(dataDir, flags.cert!, flags.key!);
  console.log(`Imported the certificate into ${dataDir}`);
  console.log(`Subject:     ${info.subject}`);
  console.log(`Names:       ${info.names.length > 0 ? info.names.join(", ") : "(none)"}`);
  console.log(`Valid until: ${info.notAfter.toISOString()}`);
  console.log(`SHA-256:     ${info.fingerprint}`);
  const missing = ["127.0.0.1", "localhost"].filter((n) => !info.names.includes(n));
  if (missing.length === 2) {
    console.log(
      "Note: the certificate names neither 127.0.0.1 nor localhost; mail clients connecting to " +
        "those will warn about the name.",
    );
  }
  console.log("Restart `bridge serve` to use it.");
  return 0;
}

async function writeAll(out: { write(p: Uint8Array): Promise<number> }, text: string) {
  const data = new TextEncoder().encode(text);
  let written = 0;
  while (written < data.length) written += await out.write(data.subarray(written));
}

/** The `cert` entry of the command table. */
export const certCommand: Command = {
  name: "cert",
  summary: "export the IMAP/SMTP TLS certificate, or import your own (export|import)",
  run,
};

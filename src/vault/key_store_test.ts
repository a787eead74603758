import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import {
  type CommandRunner,
  denoRunner,
  KeyStoreError,
  openKeyStore,
  quoteForSecurity,
  type RunResult,
} from "./key_store.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bridge_keystore_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function newKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** Every call a fake runner received. */
interface Call {
  program: string;
  args: string[];
  stdin?: string;
}

/** A runner for which no tool is installed. */
const nothingInstalled: CommandRunner = () => Promise.resolve(undefined);

/** A fake `secret-tool` over an in-memory Secret Service. */
function fakeSecretTool(calls: Call[], options: { broken?: string } = {}): CommandRunner {
  const items = new Map<string, string>();
  return (program, args, stdin) => {
    calls.push({ program, args, stdin });
    if (program !== "secret-tool") return Promise.resolve(undefined);
    const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
    if (options.broken) {
      return Promise.resolve({ code: 1, stdout: "", stderr: `${options.broken}\n` });
    }
    if (args[0] === "lookup") {
      const value = items.get(args.slice(1).join("\0"));
      return Promise.resolve(value === undefined ? { code: 1, stdout: "", stderr: "" } : ok(value));
    }
    if (args[0] === "store") {
      assert.match(args[1], /^--label=/);
      items.set(args.slice(2).join("\0"), stdin ?? "");
      return Promise.resolve(ok());
    }
    return Promise.resolve({ code: 2, stdout: "", stderr: "usage" });
  };
}

Deno.test("file key store: stores a 0600 key file, loads it back, never replaces it", async () => {
  await withDir(async (dir) => {
    const store = await openKeyStore(dir, { choice: "file" });
    const d = store.describe();
    assert.equal(d.kind, "file");
    assert.equal(d.location, join(dir, "vault.key"));
    assert.match(d.warning ?? "", /weaker than an OS keychain/);
    assert.equal(await store.load(), undefined);

    const key = newKey();
    await store.save(key);
    assert.deepEqual(await store.load(), key);
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(join(dir, "vault.key"))).mode! & 0o777, 0o600);
    }
    const before = await Deno.readFile(join(dir, "vault.key"));
    await assert.rejects(store.save(newKey()), KeyStoreError);
    assert.deepEqual(await Deno.readFile(join(dir, "vault.key")), before);
    // A second store object over the same directory finds the key.
    assert.deepEqual(await (await openKeyStore(dir, { choice: "file" })).load(), key);
  });
});

Deno.test("file key store: creates a missing data directory", async () => {
  await withDir(async (dir) => {
    const deep = join(dir, "a", "b");
    const store = await openKeyStore(deep, { choice: "file" });
    await store.save(newKey());
    assert.ok((await Deno.stat(join(deep, "vault.key"))).isFile);
  });
});

Deno.test("file key store: a damaged key file is an error and stays untouched", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "vault.key");
    await Deno.writeTextFile(path, "not a key\n", { mode: 0o600 });
    const store = await openKeyStore(dir, { choice: "file" });
    await assert.rejects(store.load(), (err: Error) => {
      assert.ok(err instanceof KeyStoreError);
      assert.match(err.message, /does not hold a vault key/);
      assert.ok(err.message.includes(path));
      return true;
    });
    // Wrong length is damaged too.
    await Deno.writeTextFile(path, Buffer.from(new Uint8Array(31)).toString("base64"));
    await assert.rejects(store.load(), KeyStoreError);
    assert.equal(await Deno.readTextFile(path), Buffer.from(new Uint8Array(31)).toString("base64"));
  });
});

Deno.test({
  name: "file key store: warns when the key file is readable by others",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withDir(async (dir) => {
      const store = await openKeyStore(dir, { choice: "file" });
      await store.save(newKey());
      await Deno.chmod(join(dir, "vault.key"), 0o644);
      await store.load();
      assert.match(store.describe().warning ?? "", /can be read by other users \(mode 644\)/);
    });
  },
});

Deno.test("auto: no keychain tool installed → key file, with a warning naming why", async () => {
  await withDir(async (dir) => {
    const store = await openKeyStore(dir, { os: "linux", runner: nothingInstalled });
    const d = store.describe();
    assert.equal(d.kind, "file");
    assert.match(d.warning ?? "", /no usable keychain \(secret-tool is not installed\)/);
    assert.match(d.warning ?? "", /weaker/);
  });
});

Deno.test("auto: secret-tool present but the Secret Service fails → key file", async () => {
  await withDir(async (dir) => {
    const calls: Call[] = [];
    const runner = fakeSecretTool(calls, {
      broken: "Cannot autolaunch D-Bus without X11 $DISPLAY",
    });
    const store = await openKeyStore(dir, { os: "linux", runner });
    assert.equal(store.describe().kind, "file");
    assert.match(store.describe().warning ?? "", /Cannot autolaunch D-Bus/);
  });
});

Deno.test("auto: a working secret-tool is used; the key travels on stdin only", async () => {
  await withDir(async (dir) => {
    const calls: Call[] = [];
    const store = await openKeyStore(dir, { os: "linux", runner: fakeSecretTool(calls) });
    const d = store.describe();
    assert.deepEqual({ kind: d.kind, backend: d.backend }, {
      kind: "keychain",
      backend: "secret-tool",
    });
    assert.equal(d.warning, undefined);
    assert.ok(d.location.includes(`vault=${dir}`));
    assert.equal(await store.load(), undefined);

    const key = newKey();
    await store.save(key);
    assert.deepEqual(await store.load(), key);
    const b64 = Buffer.from(key).toString("base64");
    const storeCall = calls.find((c) => c.args[0] === "store")!;
    assert.deepEqual(storeCall.args.slice(2), ["application", "bridge", "vault", dir]);
    assert.equal(storeCall.stdin, b64);
    for (const c of calls) assert.ok(!c.args.some((a) => a.includes(b64)));
    // No key file was written.
    await assert.rejects(Deno.stat(join(dir, "vault.key")), Deno.errors.NotFound);

    // Saving the same key again is a no-op; a different key is refused.
    await store.save(key);
    await assert.rejects(store.save(newKey()), /already holds a different vault key/);
  });
});

Deno.test("auto: an existing vault.key wins over a working keychain", async () => {
  await withDir(async (dir) => {
    const key = newKey();
    await (await openKeyStore(dir, { choice: "file" })).save(key);
    const store = await openKeyStore(dir, { os: "linux", runner: fakeSecretTool([]) });
    assert.equal(store.describe().kind, "file");
    assert.deepEqual(await store.load(), key);
  });
});

Deno.test("keychain choice: no usable keychain is an error, not a silent fallback", async () => {
  await withDir(async (dir) => {
    await assert.rejects(
      openKeyStore(dir, { choice: "keychain", os: "linux", runner: nothingInstalled }),
      (err: Error) => {
        assert.ok(err instanceof KeyStoreError);
        assert.match(err.message, /No usable keychain: secret-tool is not installed/);
        return true;
      },
    );
    await assert.rejects(
      openKeyStore(dir, {
        choice: "keychain",
        os: "linux",
        runner: fakeSecretTool([], { broken: "locked" }),
      }),
      /secret-tool failed: locked/,
    );
  });
});

Deno.test("unknown key store choice is an error", async () => {
  await assert.rejects(
    openKeyStore("/tmp", { choice: "cloud" as "file" }),
    /Unknown key store 'cloud'/,
  );
});

Deno.test("secret-tool entry holding garbage is an error", async () => {
  await withDir(async (dir) => {
    const runner: CommandRunner = () => Promise.resolve({ code: 0, stdout: "hello", stderr: "" });
    const store = await openKeyStore(dir, { choice: "keychain", os: "linux", runner });
    await assert.rejects(store.load(), /does not hold a vault key/);
  });
});

Deno.test("keychain that stores something else than asked is detected on read-back", async () => {
  await withDir(async (dir) => {
    let stored: string | undefined;
    const runner: CommandRunner = (_p, args, stdin) => {
      if (args[0] === "store") {
        stored = Buffer.from(newKey()).toString("base64"); // not what was sent
        assert.ok(stdin);
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      }
      return Promise.resolve(
        stored === undefined
          ? { code: 1, stdout: "", stderr: "" }
          : { code: 0, stdout: stored, stderr: "" },
      );
    };
    const store = await openKeyStore(dir, { choice: "keychain", os: "linux", runner });
    await assert.rejects(store.save(newKey()), /reads back differently/);
  });
});

/** Splits a `security -i` command line the way the fake expects it to be quoted. */
function splitSecurityLine(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  }
  return out;
}

Deno.test("macOS adapter: find-generic-password, add through `security -i` on stdin", async () => {
  await withDir(async (base) => {
    const dir = join(base, 'Application Support "x"'); // spaces and quotes in the account name
    const calls: Call[] = [];
    const items = new Map<string, string>();
    const runner: CommandRunner = (program, args, stdin) => {
      calls.push({ program, args, stdin });
      assert.equal(program, "security");
      const opt = (a: string[], flag: string) => a[a.indexOf(flag) + 1];
      if (args[0] === "find-generic-password") {
        assert.ok(args.includes("-w"));
        const v = items.get(`${opt(args, "-s")}|${opt(args, "-a")}`);
        return Promise.resolve(
          v === undefined
            ? {
              code: 44,
              stdout: "",
              stderr: "security: SecKeychainSearchCopyNext: The specified item could not be found.",
            }
            : { code: 0, stdout: `${v}\n`, stderr: "" },
        );
      }
      if (args[0] === "-i") {
        const [line] = (stdin ?? "").split("\n");
        const words = splitSecurityLine(line);
        assert.equal(words[0], "add-generic-password");
        items.set(`${opt(words, "-s")}|${opt(words, "-a")}`, opt(words, "-w"));
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      }
      return Promise.resolve({ code: 1, stdout: "", stderr: "unexpected" });
    };
    const store = await openKeyStore(dir, { os: "darwin", runner });
    assert.equal(store.describe().backend, "macos-security");
    assert.equal(await store.load(), undefined);
    const key = newKey();
    await store.save(key);
    assert.deepEqual(await store.load(), key);
    const b64 = Buffer.from(key).toString("base64");
    for (const c of calls) assert.ok(!c.args.some((a) => a.includes(b64)));
  });
});

Deno.test("quoteForSecurity escapes quotes and backslashes", () => {
  assert.equal(quoteForSecurity('a "b" \\c'), '"a \\"b\\" \\\\c"');
});

Deno.test("Windows adapter: PowerShell script by -EncodedCommand, key on stdin", async () => {
  await withDir(async (dir) => {
    const calls: Call[] = [];
    let stored: string | undefined;
    const runner: CommandRunner = (program, args, stdin) => {
      calls.push({ program, args, stdin });
      assert.equal(program, "powershell.exe");
      assert.equal(args[args.length - 2], "-EncodedCommand");
      const script = Buffer.from(args[args.length - 1], "base64").toString("utf16le");
      assert.ok(script.includes(`$target = 'bridge-vault-key:${dir}'`));
      assert.match(script, /CredReadW/);
      if (script.includes("::Write(")) {
        stored = (stdin ?? "").trim();
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      }
      return Promise.resolve(
        stored === undefined
          ? { code: 2, stdout: "", stderr: "" }
          : { code: 0, stdout: stored, stderr: "" },
      );
    };
    const store = await openKeyStore(dir, { os: "windows", runner });
    assert.equal(store.describe().backend, "windows-credential-manager");
    const key = newKey();
    await store.save(key);
    assert.deepEqual(await store.load(), key);
    const b64 = Buffer.from(key).toString("base64");
    for (const c of calls) {
      const script = Buffer.from(c.args[c.args.length - 1], "base64").toString("utf16le");
      assert.ok(!script.includes(b64));
    }
  });
});

Deno.test({
  name: "real secret-tool when installed: probe does not crash",
  ignore: !(await hasProgram("secret-tool")),
  fn: async () => {
    await withDir(async (dir) => {
      const store = await openKeyStore(dir, { os: "linux" });
      assert.ok(["keychain", "file"].includes(store.describe().kind));
    });
  },
});

async function hasProgram(name: string): Promise<boolean> {
  try {
    await new Deno.Command(name, { args: ["--help"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

Deno.test("denoRunner: a missing program is undefined; stdin reaches the program", async () => {
  assert.equal(await denoRunner("bridge-no-such-program-xyz", []), undefined);
  if (Deno.build.os !== "windows") {
    assert.deepEqual(await denoRunner("cat", [], "hello"), {
      code: 0,
      stdout: "hello",
      stderr: "",
    });
  }
});

/**
 * Interoperability with GnuPG, when `gpg` is installed (skipped otherwise): keys, messages and
 * detached signatures made here work in gpg and the other way round, and gpg's old-format packet
 * headers split correctly.
 */
import assert from "node:assert/strict";
import { signDetached, verifyDetached } from "./attachment.ts";
import { fingerprintOf, generateKey, lockKey, unlockKey } from "./keys.ts";
import { unlockAddressKeys, unlockUserKeys } from "./address_keys.ts";
import { decryptMessage, encryptMessage } from "./message.ts";
import { joinMessage, listPackets, splitMessage } from "./split.ts";

function hasGpg(): boolean {
  try {
    return new Deno.Command("gpg", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const PASS = "gpg interop passphrase";

Deno.test({
  name: "gpg interop: keys, messages and detached signatures both ways",
  ignore: !hasGpg(),
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "bridge-gpg-" });
    const gpg = async (args: string[], input?: Uint8Array) => {
      const child = new Deno.Command("gpg", {
        args: ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", PASS]
          .concat(args),
        stdin: input ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      if (input) {
        const w = child.stdin.getWriter();
        await w.write(input);
        await w.close();
      }
      const out = await child.output();
      return { ok: out.success, out: out.stdout, err: new TextDecoder().decode(out.stderr) };
    };
    try {
      const k = await generateKey({ name: "G", email: "g@example.test", passphrase: PASS });
      const key = await unlockKey(k.privateKey, PASS);
      await Deno.writeTextFile(`${home}/k.asc`, k.privateKey);
      assert.ok((await gpg(["--import", `${home}/k.asc`])).ok);

      // Ours → gpg.
      const msg = await encryptMessage({
        data: "from openpgp.js\n",
        encryptionKeys: [key],
        signingKeys: [key],
      });
      const dec = await gpg(["--decrypt"], new TextEncoder().encode(msg));
      assert.ok(dec.ok, dec.err);
      assert.equal(new TextDecoder().decode(dec.out), "from openpgp.js\n");
      assert.match(dec.err, /Good signature/);
      const data = new TextEncoder().encode("detached");
      await Deno.writeFile(`${home}/d.txt`, data);
      await Deno.writeFile(`${home}/d.sig`, await signDetached(data, key));
      assert.ok((await gpg(["--verify", `${home}/d.sig`, `${home}/d.txt`])).ok);

      // gpg → ours, through split/join.
      const enc = await gpg(
        ["--trust-model", "always", "--encrypt", "--sign", "-r", "g@example.test"],
        new TextEncoder().encode("from gpg\n"),
      );
      assert.ok(enc.ok, enc.err);
      assert.deepEqual(listPackets(enc.out).map((p) => p.tag), [1, 18]);
      const { keyPackets, dataPacket } = splitMessage(enc.out);
      const out = await decryptMessage(joinMessage(keyPackets, dataPacket), [key], [
        key.toPublic(),
      ]);
      assert.equal(new TextDecoder().decode(out.data), "from gpg\n");
      assert.equal(out.signature, "valid");
      const sig = await gpg(["--detach-sign", "-u", "g@example.test"], data);
      assert.ok(await verifyDetached(data, sig.out, [key.toPublic()]));

      // A key exported (and re-locked) by gpg unlocks here.
      const exported = await gpg(["--export-secret-keys", "--armor"]);
      assert.ok((await unlockKey(new TextDecoder().decode(exported.out), PASS)).isDecrypted());
    } finally {
      try {
        await new Deno.Command("gpgconf", {
          args: ["--homedir", home, "--kill", "gpg-agent"],
          stdout: "null",
          stderr: "null",
        }).output();
      } catch {
        // No gpgconf: nothing to stop.
      }
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "gpg interop: an address key locked with a binary (non-UTF-8) token unlocks",
  ignore: !hasGpg(),
  async fn() {
    // go-proton-api's test server locks address keys with 32 random bytes as the passphrase and
    // sends them encrypted and signed as the key's Token; gpg locks a key with such bytes here.
    const home = await Deno.makeTempDir({ prefix: "bridge-gpg-" });
    const token = new Uint8Array(32).map((_, i) => 0x80 + ((i * 37) & 0x7f));
    token[0] = 0xff; // never valid UTF-8
    token[31] = 0xc3; // a truncated sequence at the end as well
    try {
      await Deno.writeFile(`${home}/pass`, token);
      const gpg = (args: string[]) =>
        new Deno.Command("gpg", {
          args: ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase-file"]
            .concat(`${home}/pass`, args),
          stdout: "piped",
          stderr: "piped",
        }).output();
      const gen = await gpg(["--quick-gen-key", "A <a@example.test>", "ed25519", "sign", "never"]);
      assert.ok(gen.success, new TextDecoder().decode(gen.stderr));
      const exported = await gpg(["--armor", "--export-secret-keys", "a@example.test"]);
      assert.ok(exported.success, new TextDecoder().decode(exported.stderr));
      const addressKey = new TextDecoder().decode(exported.stdout);

      const user = await generateKey({ email: "u@example.test", passphrase: "key password" });
      const userKey = await unlockKey(user.privateKey, "key password");
      const userRing = await unlockUserKeys(
        [{ ID: "u", PrivateKey: await lockKey(userKey, "key password"), Active: 1 }],
        "key password",
      );
      const Token = await encryptMessage({ data: token, encryptionKeys: [userKey] });
      const Signature = await signDetached(token, userKey, { armor: true }) as string;
      const ring = await unlockAddressKeys(
        [{ ID: "a", PrivateKey: addressKey, Token, Signature, Active: 1 }],
        userRing,
        "key password",
      );
      assert.equal(ring.size, 1);
      const direct = await unlockKey(addressKey, token);
      assert.equal(fingerprintOf(ring.first()), fingerprintOf(direct));
    } finally {
      try {
        await new Deno.Command("gpgconf", {
          args: ["--homedir", home, "--kill", "gpg-agent"],
          stdout: "null",
          stderr: "null",
        }).output();
      } catch {
        // No gpgconf: nothing to stop.
      }
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

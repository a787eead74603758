/**
 * The body of one build worker (a Deno Worker thread, started by `build_pool.ts`): it unlocks the
 * account's address keys once, then decrypts and builds messages with {@link buildFromApi}, so
 * openpgp.js's CPU work runs off the main thread and on every core.
 *
 * Protocol (structured-clone messages, see {@link WorkerRequest} / {@link WorkerReply}):
 * 1. `init` carries each address's private keys, armored and locked with a passphrase the pool
 *    drew for this run only; the worker answers `ready` (addresses whose keys fail to unlock are
 *    left out: their messages then build as failed placeholders). A later `init` (the account's
 *    addresses changed) adds or replaces keys; builds posted after it wait for it.
 * 2. `build` carries a message and its downloaded attachment data packets; the worker answers
 *    `built` with the same `seq` and the {@link BuildOutput}, whose byte buffers are transferred.
 *    With `compress` it also compresses the literal for the cache (`BuildOutput.compressed`), so
 *    that CPU work stays off the main thread as well.
 *
 * Nothing here logs: keys, passphrases and message contents never reach the console.
 *
 * @module
 */
import type { Message } from "../api/mod.ts";
import { KeyRing, unlockKey } from "../crypto/mod.ts";
import { buildFromApi, type BuildOutput, failedBuild, withCompressed } from "./message_build.ts";
import type * as openpgp from "openpgp";

/** The keys of one address, locked with the run's passphrase. */
export interface LockedAddressKeys {
  addressId: string;
  /** Armored locked private keys, in key ring order. */
  armored: string[];
}

/** A message from the pool to a worker. */
export type WorkerRequest =
  | { type: "init"; passphrase: string; addresses: LockedAddressKeys[] }
  | {
    type: "build";
    seq: number;
    message: Message;
    /** Attachment ID → data packet. */
    attachments: [string, Uint8Array][];
    /** Also compress the literal for the cache. */
    compress?: boolean;
  };

/** A message from a worker to the pool. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "built"; seq: number; output: BuildOutput };

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const rings = new Map<string, KeyRing>();
/** The latest `init` (a pool sends another when the account's addresses change); builds wait. */
let initialized: Promise<void> = Promise.resolve();

async function init(passphrase: string, addresses: LockedAddressKeys[]): Promise<void> {
  for (const address of addresses) {
    const keys: openpgp.PrivateKey[] = [];
    for (const armored of address.armored) {
      try {
        keys.push(await unlockKey(armored, passphrase));
      } catch {
        // A key that does not unlock is skipped, as the main thread's unlock did.
      }
    }
    if (keys.length > 0) rings.set(address.addressId, new KeyRing(keys));
  }
}

async function build(
  message: Message,
  attachments: [string, Uint8Array][],
): Promise<BuildOutput> {
  try {
    const ring = rings.get(String(message?.AddressID ?? ""));
    return await buildFromApi(message, new Map(attachments), ring);
  } catch (e) {
    return failedBuild(message, e instanceof Error ? e.message : String(e));
  }
}

function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "init") {
    initialized = initialized.then(() => init(request.passphrase, request.addresses));
    initialized.then(() => scope.postMessage({ type: "ready" }));
    return;
  }
  if (request.type === "build") {
    initialized.then(() => build(request.message, request.attachments)).then((output) => {
      try {
        withCompressed(output, { compress: request.compress });
      } catch {
        // The main thread compresses instead.
      }
      // Only whole buffers are transferred: a view into a larger (possibly reused) buffer is
      // copied first, so transferring never detaches memory the worker still uses.
      output.literal = owned(output.literal);
      output.headerBytes = owned(output.headerBytes);
      const transfer: Transferable[] = [output.literal.buffer as ArrayBuffer];
      if (output.headerBytes.buffer !== output.literal.buffer) {
        transfer.push(output.headerBytes.buffer as ArrayBuffer);
      }
      if (output.compressed) {
        output.compressed = owned(output.compressed);
        transfer.push(output.compressed.buffer as ArrayBuffer);
      }
      scope.postMessage({ type: "built", seq: request.seq, output }, transfer);
    });
  }
};

/**
 * The byte stream a mail session (IMAP or SMTP) talks over, and its implementation on `node:net`/`node:tls`
 * sockets (Deno's own `Deno.startTls` is client-only, so server-side STARTTLS needs node:tls).
 *
 * Platform notes (Deno 2.9):
 * - Before wrapping a plain socket in a server `TLSSocket` the socket must be paused, otherwise
 *   some handshakes hang.
 * - A client that closes without TLS close_notify makes the TLS socket emit an error
 *   (`UnexpectedEof`, `ECONNRESET`): that is an ordinary end of stream here.
 *
 * @module
 */
import type { Socket } from "node:net";
import * as tls from "node:tls";

/** A duplex byte stream with an optional upgrade to TLS. */
export interface SocketConnection {
  /** The client's address (IPv4-mapped IPv6 shown as IPv4). */
  readonly remoteAddress: string;
  /** Whether the stream is encrypted (implicit TLS, or after {@link startTls}). */
  readonly secure: boolean;
  /** Whether {@link startTls} can be offered (a certificate is configured, not yet TLS). */
  readonly canStartTls: boolean;
  /** The next received octets, or null once the stream ended. */
  read(): Promise<Uint8Array | null>;
  /** Sends octets; resolves when handed to the OS (or at once if the stream is gone). */
  write(data: Uint8Array | string): Promise<void>;
  /**
   * Drops every octet received and not yet read (plaintext a client pipelined after
   * `STARTTLS`, RFC 3207 §6), sends `reply` in clear, then performs the server TLS handshake.
   * Rejects when the handshake fails or times out.
   */
  startTls(reply: string): Promise<void>;
  /** Ends the stream after pending writes (TLS close_notify, then FIN). */
  close(): void;
  /** Tears the stream down at once. */
  destroy(): void;
}

/** Options of {@link NodeSocketConnection}. */
export interface NodeSocketConnectionOptions {
  /** The socket is already TLS (implicit TLS). */
  secure: boolean;
  /** Credentials for `STARTTLS`; without them it is not offered. */
  secureContext?: tls.SecureContext;
  /** Longest `STARTTLS` handshake, ms. */
  handshakeTimeoutMs: number;
}

/** Pause reading from the socket when this much is buffered and unread. */
const HIGH_WATER = 1 << 20;

/** Errors that only mean "the peer went away". */
const EOF_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_DESTROYED"]);

/** Whether a socket error is just the end of the stream. */
export function isEndOfStreamError(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof err?.code === "string" && EOF_CODES.has(err.code)) return true;
  const text = `${String(err?.name)} ${String(err?.message)}`;
  return /UnexpectedEof|unexpected eof|peer closed|close_notify|socket hang up/i.test(text);
}

/** Shows `::ffff:127.0.0.1` as `127.0.0.1`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "unknown";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** {@link SocketConnection} over a `node:net` socket (or a `node:tls` one for implicit TLS). */
export class NodeSocketConnection implements SocketConnection {
  readonly remoteAddress: string;
  #socket: Socket;
  #secure: boolean;
  readonly #context?: tls.SecureContext;
  readonly #handshakeTimeoutMs: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #waiter: (() => void) | null = null;
  #upgrading = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #detach: () => void = () => {};

  constructor(socket: Socket, options: NodeSocketConnectionOptions) {
    this.#socket = socket;
    this.#secure = options.secure;
    this.#context = options.secureContext;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    this.#attach(socket);
  }

  get secure(): boolean {
    return this.#secure;
  }

  get canStartTls(): boolean {
    return !this.#secure && this.#context !== undefined;
  }

  #attach(socket: Socket): void {
    const onData = (chunk: Uint8Array) => {
      if (this.#upgrading) return;
      this.#queue.push(chunk);
      this.#queued += chunk.length;
      if (this.#queued > HIGH_WATER && !this.#paused) {
        this.#paused = true;
        socket.pause();
      }
      this.#wake();
    };
    const onEnd = () => {
      if (this.#upgrading) return;
      this.#ended = true;
      this.#wake();
    };
    const onError = () => onEnd(); // the reason does not matter to the session: the stream ended
    const onClose = () => {
      if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
      onEnd();
    };
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    this.#detach = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      // The error listener stays: an unhandled "error" event would throw.
    };
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  async read(): Promise<Uint8Array | null> {
    while (this.#queue.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    const chunk = this.#queue.shift()!;
    this.#queued -= chunk.length;
    if (this.#paused && this.#queued < HIGH_WATER / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return chunk;
  }

  write(data: Uint8Array | string): Promise<void> {
    const s = this.#socket;
    if (this.#ended || s.destroyed || !s.writable) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        s.write(data, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  async startTls(reply: string): Promise<void> {
    if (!this.canStartTls) throw new Error("TLS is not available on this connection");
    const raw = this.#socket;
    // Stop reading in clear before anything else, and forget what was read but not used.
    raw.pause();
    this.#upgrading = true;
    this.#detach();
    this.#queue = [];
    this.#queued = 0;
    this.#paused = false;
    await this.write(reply);
    if (raw.destroyed) throw new Error("the client closed the connection before TLS");
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.#context });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish(new Error(`TLS handshake timed out after ${this.#handshakeTimeoutMs} ms`));
      }, this.#handshakeTimeoutMs);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        secure.off("secure", onSecure);
        secure.off("error", onError);
        secure.off("close", onClose);
        if (err) {
          secure.on("error", () => {});
          secure.destroy();
          reject(err);
        } else resolve();
      };
      const onSecure = () => finish();
      const onError = (e: Error) => finish(new Error(`TLS handshake failed: ${e.message}`));
      const onClose = () => finish(new Error("the client closed the connection during TLS"));
      secure.on("secure", onSecure);
      secure.on("error", onError);
      secure.on("close", onClose);
    }).catch((e) => {
      this.#ended = true;
      throw e;
    });
    this.#socket = secure;
    this.#secure = true;
    this.#upgrading = false;
    secure.setNoDelay?.(true);
    this.#attach(secure);
  }

  close(): void {
    const s = this.#socket;
    if (s.destroyed) return;
    s.end();
    // A client that never closes its side must not keep the socket forever.
    this.#killTimer = setTimeout(() => s.destroy(), 5000);
  }

  destroy(): void {
    if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
    this.#socket.destroy();
    this.#ended = true;
    this.#wake();
  }
}

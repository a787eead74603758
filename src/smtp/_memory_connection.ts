/**
 * Test double: an in-memory {@link SocketConnection} whose client side is driven by the test
 * (send octets, read complete replies, watch writes and TLS upgrades). Not part of the public
 * face.
 *
 * @module
 */
import type { SocketConnection } from "../tls/socket_connection.ts";

const enc = new TextEncoder();

/** An in-memory connection for session tests. */
export class MemoryConnection implements SocketConnection {
  remoteAddress: string;
  #secure: boolean;
  #tlsOffered: boolean;
  #queue: Uint8Array[] = [];
  #ended = false;
  #waiter: (() => void) | null = null;
  #out = "";
  #outWaiter: (() => void) | null = null;
  /** Every write, in order (to check reply grouping). */
  readonly writes: string[] = [];
  /** Whether the server closed or destroyed the connection. */
  closed = false;
  /** The server performed a STARTTLS upgrade. */
  upgraded = false;
  /** Make the next startTls fail. */
  failTls = false;
  /** Writes never complete (a client that stopped reading). */
  stallWrites = false;

  constructor(options: { secure?: boolean; tls?: boolean; remoteAddress?: string } = {}) {
    this.#secure = options.secure ?? false;
    this.#tlsOffered = options.tls ?? false;
    this.remoteAddress = options.remoteAddress ?? "127.0.0.1";
  }

  get secure(): boolean {
    return this.#secure;
  }

  get canStartTls(): boolean {
    return !this.#secure && this.#tlsOffered;
  }

  // ------------------------------------------------ server side

  async read(): Promise<Uint8Array | null> {
    while (this.#queue.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((r) => (this.#waiter = r));
    }
    return this.#queue.shift()!;
  }

  write(data: Uint8Array | string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    this.writes.push(text);
    this.#out += text;
    const w = this.#outWaiter;
    this.#outWaiter = null;
    w?.();
    return this.stallWrites ? new Promise(() => {}) : Promise.resolve();
  }

  async startTls(reply: string): Promise<void> {
    this.#queue = [];
    await this.write(reply);
    if (this.failTls) throw new Error("TLS handshake failed: test");
    this.#secure = true;
    this.upgraded = true;
  }

  close(): void {
    this.closed = true;
    this.#ended = true;
    this.#wake();
    this.#wakeOut();
  }

  destroy(): void {
    this.close();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  #wakeOut(): void {
    const w = this.#outWaiter;
    this.#outWaiter = null;
    w?.();
  }

  // ------------------------------------------------ client side

  /** The client sends octets. */
  send(data: string | Uint8Array): void {
    this.#queue.push(typeof data === "string" ? enc.encode(data) : data);
    this.#wake();
  }

  /** The client closes its side. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /**
   * The next complete reply (all its lines, CRLF kept), or null if the server closed without
   * one. Rejects after `timeoutMs`.
   */
  async reply(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.#out);
      if (m) {
        this.#out = this.#out.slice(m[0].length);
        return m[0];
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no reply within ${timeoutMs} ms; have ${JSON.stringify(this.#out)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#outWaiter = r;
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }

  /** Text written but not yet taken by {@link reply}. */
  get unread(): string {
    return this.#out;
  }
}

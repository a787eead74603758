/**
 * The IMAP client of the benchmarks (`bench_imap.ts`, `bench_scale.ts`): a minimal plaintext
 * client in the benchmark's own process that streams responses, skips literal bytes without
 * copying them (unless asked for them) and counts responses, so that the figures are server time
 * plus loopback transfer, not client parsing. Plus the small helpers the benchmarks build
 * commands and read answers with.
 *
 * @module
 */
import { concatBytes } from "../src/mime/mod.ts";

/** One complete server response: its text (lines joined, CRLF kept) and its literals. */
export interface ImapResponse {
  text: string;
  literals: Uint8Array[];
}

/** What one tagged command got back. */
export interface CommandResult {
  status: string;
  tagged: string;
  /** Untagged responses and continuation requests received. */
  responses: number;
  /** Bytes received, literals included. */
  bytes: number;
  /** Milliseconds from sending the command to its tagged response. */
  ms: number;
  /** The untagged responses' text (not their literals), when asked for. */
  texts: string[];
}

/** Options of {@link ImapClient.command} and {@link ImapClient.ok}. */
export interface CommandOptions {
  /**
   * Receives every untagged response with its literals (copied); without it literals are
   * skipped.
   */
  onResponse?: (r: ImapResponse) => void;
  /** Keeps the untagged responses' text in {@link CommandResult.texts}. */
  keepText?: boolean;
}

/** The month abbreviations of IMAP dates (`date-month`, RFC 3501), January first. */
export const MONTHS: readonly string[] = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"
  .split(" ");

/**
 * A plaintext IMAP connection reading responses as a stream: lines are decoded, literals are
 * skipped (or copied out when a command has an `onResponse`) without buffering the whole
 * response.
 */
export class ImapClient {
  readonly #conn: Deno.TcpConn;
  readonly #buf = new Uint8Array(256 * 1024);
  readonly #dec = new TextDecoder();
  #tag = 0;
  #lineParts: Uint8Array[] = [];
  #text: string[] = [];
  #literals: Uint8Array[] = [];
  #litRemaining = 0;
  #litBuf: Uint8Array | undefined;
  #litPos = 0;
  #collect = false;
  #done: ImapResponse[] = [];
  #bytes = 0;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port` and reads the greeting, which must be `* OK`. */
  static async connect(port: number): Promise<ImapClient> {
    const c = new ImapClient(await Deno.connect({ hostname: "127.0.0.1", port }));
    const greeting = await c.#next();
    if (!greeting.text.startsWith("* OK")) throw new Error(`greeting: ${greeting.text.trim()}`);
    return c;
  }

  /** The next complete response, reading as needed. */
  async #next(): Promise<ImapResponse> {
    while (this.#done.length === 0) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new Error("connection closed by the server");
      this.#feed(this.#buf.subarray(0, n));
    }
    return this.#done.shift()!;
  }

  #feed(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.#litRemaining > 0) {
        const n = Math.min(this.#litRemaining, chunk.length - i);
        if (this.#litBuf) this.#litBuf.set(chunk.subarray(i, i + n), this.#litPos);
        this.#litPos += n;
        this.#litRemaining -= n;
        i += n;
        if (this.#litRemaining === 0 && this.#litBuf) {
          this.#literals.push(this.#litBuf);
          this.#litBuf = undefined;
        }
        continue;
      }
      const lf = chunk.indexOf(10, i);
      if (lf < 0) {
        this.#lineParts.push(chunk.slice(i));
        break;
      }
      let lineBytes: Uint8Array;
      if (this.#lineParts.length === 0) lineBytes = chunk.subarray(i, lf + 1);
      else {
        this.#lineParts.push(chunk.subarray(i, lf + 1));
        lineBytes = concatBytes(this.#lineParts);
        this.#lineParts = [];
      }
      i = lf + 1;
      const line = this.#dec.decode(lineBytes);
      this.#text.push(line);
      const lit = /\{(\d+)\+?\}\r?\n$/.exec(line);
      if (lit) {
        this.#litRemaining = Number(lit[1]);
        this.#litPos = 0;
        if (this.#collect) {
          this.#litBuf = new Uint8Array(this.#litRemaining);
          if (this.#litRemaining === 0) {
            this.#literals.push(this.#litBuf);
            this.#litBuf = undefined;
          }
        }
        continue;
      }
      this.#done.push({ text: this.#text.join(""), literals: this.#literals });
      this.#text = [];
      this.#literals = [];
    }
  }

  /**
   * Sends `command` and reads up to its tagged response, whatever its status. `opts.onResponse`
   * receives every untagged response with its literals (copied); without it literals are
   * skipped. `opts.keepText` keeps the untagged texts in the result.
   */
  async command(command: string, opts: CommandOptions = {}): Promise<CommandResult> {
    const tag = `b${++this.#tag}`;
    this.#collect = opts.onResponse !== undefined;
    const bytesBefore = this.#bytes;
    const texts: string[] = [];
    let responses = 0;
    const t0 = performance.now();
    await this.#conn.write(new TextEncoder().encode(`${tag} ${command}\r\n`));
    while (true) {
      const r = await this.#next();
      if (r.text.startsWith(`${tag} `)) {
        const ms = performance.now() - t0;
        this.#collect = false;
        const status = r.text.slice(tag.length + 1).split(" ")[0];
        return {
          status,
          tagged: r.text.trim(),
          responses,
          bytes: this.#bytes - bytesBefore,
          ms,
          texts,
        };
      }
      responses++;
      if (opts.keepText) texts.push(r.text);
      opts.onResponse?.(r);
    }
  }

  /** Like {@link command}, but throws unless the answer is OK. */
  async ok(command: string, opts: CommandOptions = {}): Promise<CommandResult> {
    const r = await this.command(command, opts);
    if (r.status !== "OK") throw new Error(`${command.slice(0, 60)}: ${r.tagged}`);
    return r;
  }

  /** LOGOUT and close; never throws (the server may close first). */
  async close(): Promise<void> {
    try {
      await this.command("LOGOUT");
    } catch {
      // the server may close first
    }
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** `s` as an IMAP quoted string (backslash and double quote escaped). */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => "\\" + c)}"`;
}

/** A connection to 127.0.0.1:`port`, logged in as `user` (LOGIN, untimed). */
export async function login(port: number, user: string, password: string): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  await c.ok(`LOGIN ${quote(user)} ${quote(password)}`);
  return c;
}

/** The hits of the `* SEARCH` response among `r`'s kept texts (0 without one). */
export function searchHits(r: CommandResult): number {
  const line = r.texts.find((t) => t.startsWith("* SEARCH"));
  return line ? line.trim().split(" ").length - 2 : 0;
}

/** A date as SEARCH takes it (`5-Mar-2024`, UTC). */
export function searchDate(d: Date): string {
  return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}

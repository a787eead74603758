/**
 * A TCP listener for a mail protocol (IMAP or SMTP): plaintext with optional STARTTLS, or implicit
 * TLS from the first byte; each accepted socket becomes a {@link NodeSocketConnection} handed to
 * the protocol's session. Checks the certificate/key pair up front so a bad pair is a clear
 * startup error, not a failed handshake later.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import { NodeSocketConnection } from "./socket_connection.ts";

/** How a port is secured: STARTTLS offered on a plaintext port, TLS from the first byte, none. */
export type PortSecurity = "starttls" | "ssl" | "none";

/** Options of {@link startListener}. */
export interface ListenerOptions {
  /** `IMAP` or `SMTP`, for error messages. */
  protocol: string;
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  security: PortSecurity;
  /** PEM pair, required unless `security` is `none`. */
  tls?: { certPem: string; keyPem: string };
  /** Longest TLS handshake, ms. */
  handshakeTimeoutMs: number;
  /** A new client. */
  onConnection: (conn: NodeSocketConnection) => void;
  log: (message: string) => void;
}

/** A listening socket. */
export interface Listener {
  readonly hostname: string;
  readonly port: number;
  readonly security: PortSecurity;
  /** Stops accepting (open connections are the protocol's to end). */
  close(): Promise<void>;
}

/** Listens; rejects with a clear message when the port is taken or the TLS pair is unusable. */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const { protocol, hostname, security } = options;
  if (security !== "none" && !options.tls) {
    throw new Error(`${protocol} security "${security}" needs a TLS certificate and key`);
  }
  let secureContext: tls.SecureContext | undefined;
  if (options.tls && security !== "none") {
    checkPair(protocol, options.tls.certPem, options.tls.keyPem);
    secureContext = tls.createSecureContext({ cert: options.tls.certPem, key: options.tls.keyPem });
  }
  const accept = (socket: net.Socket, secure: boolean) => {
    socket.on("error", () => {}); // reported through the session's read as end of stream
    options.onConnection(
      new NodeSocketConnection(socket, {
        secure,
        secureContext: security === "starttls" ? secureContext : undefined,
        handshakeTimeoutMs: options.handshakeTimeoutMs,
      }),
    );
  };
  // Implicit TLS: connections still in their handshake, by remote address and port, each with
  // the timer that ends it. (Deno's tls.Server does not apply `handshakeTimeout`: a client that
  // connected and sent nothing held its connection, and a slot, for ever.)
  const handshaking = new Map<string, ReturnType<typeof setTimeout>>();
  const peer = (s: net.Socket) => `${s.remoteAddress}:${s.remotePort}`;
  const server: net.Server = security === "ssl"
    ? tls.createServer({
      // Deno's tls.createServer wants the PEM pair itself, not a secureContext.
      cert: options.tls!.certPem,
      key: options.tls!.keyPem,
    }, (s) => {
      const key = peer(s);
      clearTimeout(handshaking.get(key));
      handshaking.delete(key);
      accept(s, true);
    })
    : net.createServer((s) => accept(s, false));
  if (security === "ssl") {
    server.on("connection", (raw: net.Socket) => {
      const key = peer(raw);
      raw.on("error", () => {});
      handshaking.set(
        key,
        setTimeout(() => {
          handshaking.delete(key);
          options.log(
            `${protocol.toLowerCase()} ${raw.remoteAddress}: no TLS handshake within ` +
              `${options.handshakeTimeoutMs} ms; closed`,
          );
          raw.destroy();
        }, options.handshakeTimeoutMs),
      );
      raw.once("close", () => {
        clearTimeout(handshaking.get(key));
        handshaking.delete(key);
      });
    });
    server.on(
      "tlsClientError",
      (e: Error) => options.log(`${protocol.toLowerCase()}: TLS handshake failed: ${e.message}`),
    );
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(
        new Error(
          e.code === "EADDRINUSE"
            ? `${protocol} port ${options.port} on ${hostname} is already in use`
            : `cannot listen for ${protocol} on ${hostname}:${options.port}: ${e.message}`,
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, hostname, () => {
      server.off("error", onError);
      resolve();
    });
  });
  server.on(
    "error",
    (e: Error) => options.log(`${protocol.toLowerCase()}: listener error: ${e.message}`),
  );
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    hostname,
    port,
    security,
    close() {
      for (const timer of handshaking.values()) clearTimeout(timer);
      handshaking.clear();
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  };
}

/** Throws a clear error unless `certPem` parses and `keyPem` is its private key. */
function checkPair(protocol: string, certPem: string, keyPem: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new Error(`unusable TLS certificate for ${protocol}: ${(e as Error).message}`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    throw new Error(`unusable TLS private key for ${protocol}: ${(e as Error).message}`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new Error(`the TLS private key for ${protocol} does not belong to its certificate`);
  }
}

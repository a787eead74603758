/**
 * Whether a host names this machine's loopback interface: what the listeners, the config checks
 * and the reference server decide by (plaintext login, non-loopback warnings, http:// API URLs,
 * DNS rebinding).
 *
 * @module
 */

/**
 * Whether `host` is a loopback address or name: `localhost`, `127.0.0.0/8`, `::1` (bracketed or
 * not) and IPv4-mapped `::ffff:127.…`.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) ||
    /^::ffff:127\./.test(h);
}

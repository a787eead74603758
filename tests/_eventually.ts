/**
 * Retrying a check in end-to-end tests until what it checks has happened (an event poll, a
 * background sync), without asserting on how long that took.
 *
 * @module
 */

/**
 * Runs `check` until it returns without throwing, retrying every `intervalMs` for up to
 * `timeoutMs`; then rethrows the check's last error.
 */
export async function eventually(
  check: () => Promise<void>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/**
 * How bridge's own launchers start the program: the V8 flags and the environment that every
 * launcher uses — `deno.json`'s `demo` and `compile` tasks, `scripts/launch_bundle.ts` and the
 * benchmarks — so the figures in `docs/BENCHMARKS.md` are the product's.
 * `launch_settings_test.ts` checks that `deno.json` says the same.
 *
 * - `--max-semi-space-size=4`: a 4 MiB young generation keeps a 10,000-message first sync near
 *   260 MB of RSS (350–375 MB with V8's default) for up to about 10 % more CPU.
 * - `--expose-gc`: the soft memory limit (`src/sync/heap_governor.ts`) can ask for collections.
 * - `MALLOC_MMAP_THRESHOLD_=4194304`: glibc serves blocks of 4 MiB and more (the buffers of big
 *   messages and attachments) with their own mappings and returns them to the system when freed.
 *   Left to itself, glibc raises that threshold to the largest block freed so far (up to 32
 *   MiB), so after a big message such buffers come from its heap and stay with the process:
 *   serve's RSS 10 s after sending a 20 MB attachment 484–606 → 207–216 MB, after receiving one
 *   256–335 → 171–182 MB (with the periodic collection). 128 KiB and 1 MiB kept a little less
 *   but made reading large cached literals 17 % slower (fresh mappings for every buffer); 4 MiB
 *   costs about 4 %. `docs/BENCHMARKS.md`, "Memory". Other C libraries ignore the variable.
 *   The variable is read when the process starts, so it has to come from whoever starts bridge
 *   (a compiled binary run by hand or by a service manager: `docs/OPERATIONS.md`).
 *
 * @module
 */

/** V8 flags of every launcher (`--v8-flags=` value). */
export const BRIDGE_V8_FLAGS = "--max-semi-space-size=4,--expose-gc";

/** Environment variables every launcher sets for the bridge process. */
export const BRIDGE_ENV: Readonly<Record<string, string>> = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: "4194304",
});

/**
 * The glibc mmap threshold this process was started with (`MALLOC_MMAP_THRESHOLD_`), in bytes;
 * `null` when it is not set or not a number (glibc then adjusts it as it goes).
 */
export function mallocMmapThreshold(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): number | null {
  const raw = env("MALLOC_MMAP_THRESHOLD_");
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

/**
 * Fault injection and human-verification gates of the reference server. Both are checked in
 * front of the router for every request outside the control prefix (`/ref/v1/`), so tests can make
 * any API call slow, fail, rate-limited, dropped or demand human verification.
 *
 * A {@link FaultRule} matches by method and path. `Path` is either a prefix (`/mail/v4`) or, when
 * it has `:name` segments, a route pattern (`/mail/v4/messages/:id`) matched segment by segment.
 * A matching rule first waits `LatencyMs`, then fails the request with probability `ErrorRate`
 * (default 1 when `Status` or `Drop` is set, else 0). A failure is either an API error reply with
 * `Status` (default 500), `Code` (default 2001, as go-proton-api's status hooks answer) and, with
 * `RetryAfter`, a `Retry-After` header; or, with `Drop`, a reply whose body stream errors so the
 * client sees the connection break while reading. With `AfterHandling` the request is handled
 * first (its effects stay) and the failure replaces the reply: a lost answer; with
 * `AfterHandling` and `LatencyMs` alone the reply, made at once, is sent that much later (a slow
 * answer whose content is older than the wait). `Count` limits the
 * rule to its next N failures (latency-only rules: to the next N matching requests); the rule
 * disappears after that.
 *
 * A {@link HumanVerificationRule} makes matching requests answer 422 Code 9001 with
 * `Details: {HumanVerificationMethods, HumanVerificationToken}` until a request carries
 * `x-pm-human-verification-token: <an issued token>` and `x-pm-human-verification-token-type:
 * <one of the methods, or several joined by ",">`; that request passes and uses up one of the
 * rule's `Count`. A token that was never issued answers 422 Code 12087.
 *
 * @module
 */
import { apiError } from "./http.ts";

/** One injected fault (field names PascalCase like the control API that sets them). */
export interface FaultRule {
  /** HTTP method to match (any when absent). */
  Method?: string;
  /** Path prefix, or route pattern with `:name` segments (any path when absent). */
  Path?: string;
  /** Match `Path` exactly, not as a prefix (`/mail/v4/messages` without `…/import`). */
  Exact?: boolean;
  /** Delay before answering, in milliseconds. */
  LatencyMs?: number;
  /** Probability 0..1 that a matching request fails. */
  ErrorRate?: number;
  /** HTTP status of the failure (default 500). */
  Status?: number;
  /** API `Code` of the failure (default 2001). */
  Code?: number;
  /** API `Error` text of the failure. */
  Error?: string;
  /** Seconds for the `Retry-After` header of the failure. */
  RetryAfter?: number;
  /** Break the connection instead of answering. */
  Drop?: boolean;
  /**
   * Fail after the request was handled, its effects kept: the reply is lost (with `Drop`) or
   * replaced by the error, as when a server does the work and then fails or times out.
   */
  AfterHandling?: boolean;
  /** Apply to the next N failures (or matches, for latency-only rules) only. */
  Count?: number;
}

/** A rule as stored, with its ID. */
export interface StoredFaultRule extends FaultRule {
  ID: string;
}

/** A human-verification demand. */
export interface HumanVerificationRule {
  /** HTTP method to match (default `POST`). */
  Method?: string;
  /** Exact path or route pattern (default `/auth/v4`). */
  Path?: string;
  /** How many verifications to demand before the rule disappears (default 1). */
  Count?: number;
  /** Methods offered in `Details.HumanVerificationMethods` (default `["captcha", "email"]`). */
  Methods?: string[];
}

interface StoredHvRule {
  ID: string;
  Method: string;
  Path: string;
  Count: number;
  Methods: string[];
}

/** Whether `path` matches `pattern` as a prefix, or segment-wise when the pattern has `:name`. */
export function pathMatches(pattern: string, path: string, exact = false): boolean {
  const segs = pattern.split("/").filter(Boolean);
  if (segs.some((s) => s.startsWith(":") || s === "*")) {
    const parts = path.split("/").filter(Boolean);
    if (exact ? parts.length !== segs.length : parts.length < segs.length) return false;
    return segs.every((s, i) => s.startsWith(":") || s === "*" || s === parts[i]);
  }
  const norm = (p: string) => "/" + p.split("/").filter(Boolean).join("/");
  const a = norm(pattern);
  const b = norm(path);
  if (exact) return a === b;
  return a === "/" || b === a || b.startsWith(a + "/");
}

function randomID(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

/** A reply whose body errors at once: the client gets headers and then a broken connection. */
export function droppedResponse(): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.error(new Error("connection dropped by fault injection"));
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

/** The server's fault rules and human-verification gates (kept in memory only). */
export class Faults {
  #rules: StoredFaultRule[] = [];
  #hv: StoredHvRule[] = [];
  #hvTokens = new Set<string>();
  /** Random source in [0, 1); replaceable for tests. */
  random: () => number = Math.random;

  /** Adds a rule and returns its ID. */
  add(rule: FaultRule): string {
    validateRule(rule);
    const stored: StoredFaultRule = { ...rule, ID: randomID() };
    this.#rules.push(stored);
    return stored.ID;
  }

  /** Replaces all rules. */
  set(rules: FaultRule[]): string[] {
    rules.forEach(validateRule);
    this.#rules = [];
    return rules.map((r) => this.add(r));
  }

  /** Removes one rule by ID, or every rule and human-verification gate when no ID is given. */
  clear(id?: string): void {
    if (id === undefined) {
      this.#rules = [];
      this.#hv = [];
      this.#hvTokens.clear();
    } else {
      this.#rules = this.#rules.filter((r) => r.ID !== id);
      this.#hv = this.#hv.filter((r) => r.ID !== id);
    }
  }

  /** The current rules. */
  list(): StoredFaultRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  /** Demands human verification on matching requests; returns the gate's ID. */
  requireHumanVerification(rule: HumanVerificationRule = {}): string {
    const stored: StoredHvRule = {
      ID: randomID(),
      Method: (rule.Method ?? "POST").toUpperCase(),
      Path: rule.Path ?? "/auth/v4",
      Count: rule.Count ?? 1,
      Methods: rule.Methods ?? ["captcha", "email"],
    };
    if (!(stored.Count > 0)) throw new RangeError("Count must be positive");
    this.#hv.push(stored);
    return stored.ID;
  }

  /**
   * Applies the rules to one request: waits for matching latency, then returns the failure reply,
   * or `undefined` when the request should go on to the router.
   */
  async apply(req: Request, path: string): Promise<Response | undefined> {
    const method = req.method.toUpperCase();
    let latency = 0;
    let failure: Response | undefined;
    for (const rule of [...this.#rules]) {
      if (rule.AfterHandling) continue;
      if (rule.Method && rule.Method.toUpperCase() !== method) continue;
      if (rule.Path && !pathMatches(rule.Path, path, rule.Exact === true)) continue;
      const fails = rule.Status !== undefined || rule.Drop || rule.ErrorRate !== undefined;
      latency = Math.max(latency, rule.LatencyMs ?? 0);
      if (!fails) {
        this.#useUp(rule);
        continue;
      }
      if (failure) continue;
      const rate = rule.ErrorRate ?? 1;
      if (rate < 1 && this.random() >= rate) continue;
      this.#useUp(rule);
      failure = rule.Drop ? droppedResponse() : errorReply(rule);
    }
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    return failure ?? this.#humanVerification(req, method, path);
  }

  /**
   * For a request already handled (rules with `AfterHandling`): waits for matching delays (rules
   * with `LatencyMs`: the reply, made before, arrives late), then returns the failure that
   * replaces the reply, or `undefined` to send the reply.
   */
  async after(req: Request, path: string): Promise<Response | undefined> {
    const method = req.method.toUpperCase();
    let latency = 0;
    let failure: Response | undefined;
    for (const rule of [...this.#rules]) {
      if (!rule.AfterHandling) continue;
      if (rule.Method && rule.Method.toUpperCase() !== method) continue;
      if (rule.Path && !pathMatches(rule.Path, path, rule.Exact === true)) continue;
      if (rule.LatencyMs !== undefined) {
        latency = Math.max(latency, rule.LatencyMs);
        this.#useUp(rule);
        continue;
      }
      if (failure) continue;
      const rate = rule.ErrorRate ?? 1;
      if (rate < 1 && this.random() >= rate) continue;
      this.#useUp(rule);
      failure = rule.Drop ? droppedResponse() : errorReply(rule);
    }
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    return failure;
  }

  #useUp(rule: StoredFaultRule) {
    if (rule.Count === undefined) return;
    rule.Count--;
    if (rule.Count <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
  }

  #humanVerification(req: Request, method: string, path: string): Response | undefined {
    const gate = this.#hv.find((g) => g.Method === method && pathMatches(g.Path, path, true));
    if (!gate) return undefined;
    const token = req.headers.get("x-pm-human-verification-token");
    const type = req.headers.get("x-pm-human-verification-token-type") ?? "";
    if (token) {
      const types = type.split(",").map((t) => t.trim()).filter(Boolean);
      if (!this.#hvTokens.has(token) || !types.some((t) => gate.Methods.includes(t))) {
        return apiError(422, 12087, "Invalid verification token");
      }
      this.#hvTokens.delete(token);
      gate.Count--;
      if (gate.Count <= 0) this.#hv = this.#hv.filter((g) => g !== gate);
      return undefined;
    }
    const issued = randomID();
    this.#hvTokens.add(issued);
    return apiError(422, 9001, "Human verification required", {
      HumanVerificationMethods: gate.Methods,
      HumanVerificationToken: issued,
    });
  }
}

function errorReply(rule: FaultRule): Response {
  const status = rule.Status ?? 500;
  const res = apiError(
    status,
    rule.Code ?? 2001,
    rule.Error ?? `Request failed with status ${status} (injected fault)`,
  );
  if (rule.RetryAfter !== undefined) res.headers.set("Retry-After", String(rule.RetryAfter));
  return res;
}

function validateRule(rule: FaultRule): void {
  if (typeof rule !== "object" || rule === null) throw new TypeError("a fault rule is an object");
  const num = (v: unknown, name: string, min: number, max = Infinity) => {
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`${name} must be a number in [${min}, ${max}]`);
    }
  };
  num(rule.LatencyMs, "LatencyMs", 0, 600_000);
  num(rule.ErrorRate, "ErrorRate", 0, 1);
  num(rule.Status, "Status", 100, 599);
  num(rule.Code, "Code", 0);
  num(rule.RetryAfter, "RetryAfter", 0);
  num(rule.Count, "Count", 1);
  if (rule.Method !== undefined && typeof rule.Method !== "string") {
    throw new TypeError("Method must be a string");
  }
  if (rule.Path !== undefined && (typeof rule.Path !== "string" || !rule.Path.startsWith("/"))) {
    throw new TypeError("Path must be a string starting with /");
  }
  if (rule.Exact !== undefined && typeof rule.Exact !== "boolean") {
    throw new TypeError("Exact must be a boolean");
  }
  if (rule.AfterHandling !== undefined && typeof rule.AfterHandling !== "boolean") {
    throw new TypeError("AfterHandling must be a boolean");
  }
  if (
    rule.AfterHandling && rule.LatencyMs !== undefined &&
    (rule.Status !== undefined || rule.Drop || rule.ErrorRate !== undefined)
  ) {
    throw new RangeError("an AfterHandling rule either fails the reply or delays it, not both");
  }
}
